using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GrantSupersedeIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The initiate's supersede looks up the live grant of one machine, port and sources. Without this index it
            // read every live grant of the machine (bench/README.md, "Throughput"). An expression index, the same text
            // on both databases: PostgreSQL limits a btree entry to 2,704 bytes and a grant's sources can be longer,
            // so only their first 256 characters are indexed; the statement compares the whole value as well.
            migrationBuilder.Sql("""CREATE INDEX "IX_Grants_Supersede" ON "Grants" ("MachineId", "Port", substr("Sources", 1, 256), "Status")""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_Grants_Supersede" """);
        }
    }
}
