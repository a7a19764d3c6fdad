using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GrantMachineLiveIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Grants_MachineId_Status",
                table: "Grants");

            migrationBuilder.CreateIndex(
                name: "IX_Grants_MachineId_Status_EndTimeUtc",
                table: "Grants",
                columns: new[] { "MachineId", "Status", "EndTimeUtc" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Grants_MachineId_Status_EndTimeUtc",
                table: "Grants");

            migrationBuilder.CreateIndex(
                name: "IX_Grants_MachineId_Status",
                table: "Grants",
                columns: new[] { "MachineId", "Status" });
        }
    }
}
