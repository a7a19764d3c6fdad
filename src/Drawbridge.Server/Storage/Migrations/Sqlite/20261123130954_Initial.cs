using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Drawbridge.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AccessRequests",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    PolicyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Requestor = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Justification = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    StartTimeUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    ObservedAddress = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessRequests", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ApiTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Principal = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Role = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    RevokedUtc = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiTokens", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuditEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    PreviousHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TimeUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    Actor = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    SourceAddress = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Result = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "EnrollmentTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    UsesLeft = table.Column<int>(type: "INTEGER", nullable: false),
                    ExpiresUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EnrollmentTokens", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Installations",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    SubscriptionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Installations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "JitPolicies",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceGroup = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Location = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JitPolicies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Machines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceGroup = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    Hostname = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    OsType = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Addresses = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    AgentCredentialHash = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    AgentLastSeenUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    StateVersion = table.Column<long>(type: "INTEGER", nullable: false),
                    AppliedVersion = table.Column<long>(type: "INTEGER", nullable: false),
                    AgentLastError = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Machines", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ResourceGroups",
                columns: table => new
                {
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ResourceGroups", x => x.NameKey);
                });

            migrationBuilder.CreateTable(
                name: "Grants",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    Sources = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    EndTimeUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    EndReason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    EndedBy = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    EndedUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    PublishedVersion = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Grants", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Grants_AccessRequests_RequestId",
                        column: x => x.RequestId,
                        principalTable: "AccessRequests",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Grants_Machines_MachineId",
                        column: x => x.MachineId,
                        principalTable: "Machines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "JitPolicyPorts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PolicyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    AllowedSources = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    MaxDurationSeconds = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JitPolicyPorts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_JitPolicyPorts_JitPolicies_PolicyId",
                        column: x => x.PolicyId,
                        principalTable: "JitPolicies",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_JitPolicyPorts_Machines_MachineId",
                        column: x => x.MachineId,
                        principalTable: "Machines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AccessRequests_StartTimeUtc",
                table: "AccessRequests",
                column: "StartTimeUtc");

            migrationBuilder.CreateIndex(
                name: "IX_ApiTokens_TokenHash",
                table: "ApiTokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Sequence",
                table: "AuditEvents",
                column: "Sequence",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_TimeUtc",
                table: "AuditEvents",
                column: "TimeUtc");

            migrationBuilder.CreateIndex(
                name: "IX_EnrollmentTokens_TokenHash",
                table: "EnrollmentTokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Grants_MachineId_Status",
                table: "Grants",
                columns: new[] { "MachineId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_Grants_RequestId",
                table: "Grants",
                column: "RequestId");

            migrationBuilder.CreateIndex(
                name: "IX_Grants_Status_EndTimeUtc",
                table: "Grants",
                columns: new[] { "Status", "EndTimeUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_JitPolicies_ResourceGroup_Location_NameKey",
                table: "JitPolicies",
                columns: new[] { "ResourceGroup", "Location", "NameKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_JitPolicyPorts_MachineId_Number",
                table: "JitPolicyPorts",
                columns: new[] { "MachineId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_JitPolicyPorts_PolicyId",
                table: "JitPolicyPorts",
                column: "PolicyId");

            migrationBuilder.CreateIndex(
                name: "IX_Machines_AgentCredentialHash",
                table: "Machines",
                column: "AgentCredentialHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Machines_ResourceGroup_NameKey",
                table: "Machines",
                columns: new[] { "ResourceGroup", "NameKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ApiTokens");

            migrationBuilder.DropTable(
                name: "AuditEvents");

            migrationBuilder.DropTable(
                name: "EnrollmentTokens");

            migrationBuilder.DropTable(
                name: "Grants");

            migrationBuilder.DropTable(
                name: "Installations");

            migrationBuilder.DropTable(
                name: "JitPolicyPorts");

            migrationBuilder.DropTable(
                name: "ResourceGroups");

            migrationBuilder.DropTable(
                name: "AccessRequests");

            migrationBuilder.DropTable(
                name: "JitPolicies");

            migrationBuilder.DropTable(
                name: "Machines");
        }
    }
}
