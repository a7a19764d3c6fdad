using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class NetworkSecurityGroups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ImportedFrom",
                table: "Machines",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ListeningPorts",
                table: "Machines",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OtherInputFilters",
                table: "Machines",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "SecurityGroups",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceGroup = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    Location = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    Name = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    NameKey = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ImportedFrom = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    CreatedUtc = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedUtc = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SecurityGroups", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SecurityGroupAttachments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    GroupId = table.Column<Guid>(type: "uuid", nullable: false),
                    MachineId = table.Column<Guid>(type: "uuid", nullable: false),
                    Layer = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SecurityGroupAttachments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SecurityGroupAttachments_Machines_MachineId",
                        column: x => x.MachineId,
                        principalTable: "Machines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_SecurityGroupAttachments_SecurityGroups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "SecurityGroups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SecurityGroupRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    GroupId = table.Column<Guid>(type: "uuid", nullable: false),
                    Ordinal = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    Priority = table.Column<int>(type: "integer", nullable: false),
                    Direction = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Access = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Protocol = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    Sources = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: false),
                    DestinationPorts = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SecurityGroupRules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SecurityGroupRules_SecurityGroups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "SecurityGroups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SecurityGroupAttachments_GroupId",
                table: "SecurityGroupAttachments",
                column: "GroupId");

            migrationBuilder.CreateIndex(
                name: "IX_SecurityGroupAttachments_MachineId_GroupId",
                table: "SecurityGroupAttachments",
                columns: new[] { "MachineId", "GroupId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SecurityGroupRules_GroupId_Ordinal",
                table: "SecurityGroupRules",
                columns: new[] { "GroupId", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_SecurityGroups_ResourceGroup_NameKey",
                table: "SecurityGroups",
                columns: new[] { "ResourceGroup", "NameKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SecurityGroupAttachments");

            migrationBuilder.DropTable(
                name: "SecurityGroupRules");

            migrationBuilder.DropTable(
                name: "SecurityGroups");

            migrationBuilder.DropColumn(
                name: "ImportedFrom",
                table: "Machines");

            migrationBuilder.DropColumn(
                name: "ListeningPorts",
                table: "Machines");

            migrationBuilder.DropColumn(
                name: "OtherInputFilters",
                table: "Machines");
        }
    }
}
