using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GrantRequestor : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Requestor",
                table: "Grants",
                type: "TEXT",
                maxLength: 1024,
                nullable: false,
                defaultValue: "");

            // Grants made before this migration take their request's requestor.
            migrationBuilder.Sql("""UPDATE "Grants" SET "Requestor" = (SELECT "Requestor" FROM "AccessRequests" WHERE "AccessRequests"."Id" = "Grants"."RequestId");""");

            migrationBuilder.CreateIndex(
                name: "IX_Grants_Requestor_Status_EndTimeUtc",
                table: "Grants",
                columns: new[] { "Requestor", "Status", "EndTimeUtc" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Grants_Requestor_Status_EndTimeUtc",
                table: "Grants");

            migrationBuilder.DropColumn(
                name: "Requestor",
                table: "Grants");
        }
    }
}
