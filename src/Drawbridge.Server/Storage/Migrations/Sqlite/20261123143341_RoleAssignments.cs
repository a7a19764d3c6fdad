using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RoleAssignments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "RoleAssignments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Principal = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Role = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoleAssignments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Users",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    PasswordHash = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    DisabledUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Users", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ApiTokens_Principal",
                table: "ApiTokens",
                column: "Principal");

            migrationBuilder.CreateIndex(
                name: "IX_RoleAssignments_Principal_Role_Scope",
                table: "RoleAssignments",
                columns: new[] { "Principal", "Role", "Scope" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Users_Name",
                table: "Users",
                column: "Name",
                unique: true);

            // Tokens used to carry one role for the whole subscription: keep exactly that access as users and
            // subscription-level role assignments before the column goes.
            migrationBuilder.Sql("""
                INSERT INTO "Users" ("Id", "Name", "CreatedUtc", "CreatedBy")
                SELECT MIN("Id"), lower("Principal"), MIN("CreatedUtc"), 'migration' FROM "ApiTokens" GROUP BY lower("Principal");
                INSERT INTO "RoleAssignments" ("Id", "Principal", "Role", "Scope", "CreatedUtc", "CreatedBy")
                SELECT MIN(t."Id"), lower(t."Principal"), t."Role", '/subscriptions/' || lower(i."SubscriptionId"), MIN(t."CreatedUtc"), 'migration'
                FROM "ApiTokens" t CROSS JOIN "Installations" i GROUP BY lower(t."Principal"), t."Role", i."SubscriptionId";
                UPDATE "ApiTokens" SET "Principal" = lower("Principal");
                """);

            migrationBuilder.DropColumn(
                name: "Role",
                table: "ApiTokens");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RoleAssignments");

            migrationBuilder.DropTable(
                name: "Users");

            migrationBuilder.DropIndex(
                name: "IX_ApiTokens_Principal",
                table: "ApiTokens");

            migrationBuilder.AddColumn<string>(
                name: "Role",
                table: "ApiTokens",
                type: "TEXT",
                maxLength: 1024,
                nullable: false,
                defaultValue: "");
        }
    }
}
