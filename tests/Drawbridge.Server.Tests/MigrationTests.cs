using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Drawbridge.Server.Tests;

public class MigrationTests
{
    [Fact]
    public void Sqlite_MigrationsMatchTheModel()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --context SqliteDrawbridgeDbContext --output-dir Storage/Migrations/Sqlite");
    }

    [Fact]
    public void Postgres_MigrationsMatchTheModel()
    {
        using var db = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --context PostgresDrawbridgeDbContext --output-dir Storage/Migrations/Postgres");
    }
}

/// <summary>
/// Tokens created before role assignments carried their role: upgrading keeps exactly that access, as a user and
/// a role assignment at the subscription, on both providers.
/// </summary>
public abstract class RoleAssignmentsMigrationTests(ITestDatabase database)
{
    private const string Subscription = "0a1b2c3d-0000-4000-8000-000000000001";

    [Fact]
    public async Task TokenRoles_BecomeUsersAndRoleAssignments()
    {
        var directory = Directory.CreateTempSubdirectory("drawbridge-migration-test").FullName;
        var settings = await database.CreateAsync(directory);
        await using var db = settings["Drawbridge:Database:Provider"] == "Sqlite"
            ? (DrawbridgeDbContext)new SqliteDrawbridgeDbContext(new DbContextOptionsBuilder<SqliteDrawbridgeDbContext>().UseSqlite($"Data Source={directory}/m.db").Options)
            : new PostgresDrawbridgeDbContext(new DbContextOptionsBuilder<PostgresDrawbridgeDbContext>().UseNpgsql(settings["Drawbridge:Database:ConnectionString"]).Options);
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var initial = db.Database.GetMigrations().First();
        await migrator.MigrateAsync(initial, TestContext.Current.CancellationToken);

        var sqlite = db.Database.IsSqlite();
        string Id(int n) => sqlite ? $"'0A1B2C3D-0000-4000-8000-00000000000{n}'" : $"'0a1b2c3d-0000-4000-8000-00000000000{n}'";
        var time = sqlite ? "0" : "'2026-11-01T00:00:00Z'";
        // Literal test data only; nothing here comes from outside the test.
        var rows = $"""
            INSERT INTO "Installations" ("Id", "SubscriptionId", "CreatedUtc") VALUES (1, {Id(1)}, {time});
            INSERT INTO "ApiTokens" ("Id", "Principal", "Role", "TokenHash", "CreatedUtc") VALUES ({Id(2)}, 'Alice', 'JitRequester', 'h1', {time});
            INSERT INTO "ApiTokens" ("Id", "Principal", "Role", "TokenHash", "CreatedUtc") VALUES ({Id(3)}, 'alice', 'JitRequester', 'h2', {time});
            INSERT INTO "ApiTokens" ("Id", "Principal", "Role", "TokenHash", "CreatedUtc") VALUES ({Id(4)}, 'owner', 'Owner', 'h3', {time});
            """;
        await db.Database.ExecuteSqlRawAsync(rows, TestContext.Current.CancellationToken);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["alice", "owner"], await db.Users.Select(u => u.Name).OrderBy(n => n).ToListAsync(TestContext.Current.CancellationToken));
        var assignments = await db.RoleAssignments.OrderBy(a => a.Principal).Select(a => new { a.Principal, a.Role, a.Scope }).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal([("alice", "JitRequester", $"/subscriptions/{Subscription}"), ("owner", "Owner", $"/subscriptions/{Subscription}")],
            assignments.Select(a => (a.Principal, a.Role, a.Scope)));
        Assert.All(await db.ApiTokens.Select(t => t.Principal).ToListAsync(TestContext.Current.CancellationToken), p => Assert.Equal(p, p.ToLowerInvariant()));
        await db.Database.EnsureDeletedAsync(TestContext.Current.CancellationToken);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class RoleAssignmentsMigrationTests_Sqlite() : RoleAssignmentsMigrationTests(new SqliteDatabase());

public sealed class RoleAssignmentsMigrationTests_Postgres() : RoleAssignmentsMigrationTests(new PostgresDatabase());

/// <summary>Grants made before grants carried their requestor take it from their request when upgrading, on both providers.</summary>
public abstract class GrantRequestorMigrationTests(ITestDatabase database)
{
    [Fact]
    public async Task ExistingGrants_TakeTheirRequestsRequestor()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("drawbridge-migration-test").FullName;
        var settings = await database.CreateAsync(directory);
        await using var db = settings["Drawbridge:Database:Provider"] == "Sqlite"
            ? (DrawbridgeDbContext)new SqliteDrawbridgeDbContext(new DbContextOptionsBuilder<SqliteDrawbridgeDbContext>().UseSqlite($"Data Source={directory}/m.db").Options)
            : new PostgresDrawbridgeDbContext(new DbContextOptionsBuilder<PostgresDrawbridgeDbContext>().UseNpgsql(settings["Drawbridge:Database:ConnectionString"]).Options);
        var migrations = db.Database.GetMigrations().ToList();
        var before = migrations[migrations.FindIndex(m => m.EndsWith("_GrantRequestor", StringComparison.Ordinal)) - 1];
        await db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>().MigrateAsync(before, ct);

        var sqlite = db.Database.IsSqlite();
        string Id(int n) => sqlite ? $"'0A1B2C3D-0000-4000-8000-00000000000{n}'" : $"'0a1b2c3d-0000-4000-8000-00000000000{n}'";
        var time = sqlite ? "0" : "'2026-11-01T00:00:00Z'";
        // Literal test data only: one machine, two requests by different principals, a grant each.
        var rows = $"""
            INSERT INTO "Machines" ("Id", "ResourceGroup", "Name", "NameKey", "OsType", "Addresses", "StateVersion", "AppliedVersion", "CreatedUtc")
                VALUES ({Id(1)}, 'default', 'h1', 'h1', 'Linux', '', 1, 1, {time});
            INSERT INTO "AccessRequests" ("Id", "PolicyId", "Requestor", "StartTimeUtc", "ObservedAddress") VALUES ({Id(2)}, {Id(9)}, 'ada', {time}, '198.18.0.100');
            INSERT INTO "AccessRequests" ("Id", "PolicyId", "Requestor", "StartTimeUtc", "ObservedAddress") VALUES ({Id(3)}, {Id(9)}, 'bob', {time}, '198.18.0.101');
            INSERT INTO "Grants" ("Id", "RequestId", "MachineId", "Ordinal", "Port", "Protocol", "Sources", "EndTimeUtc", "Status", "PublishedVersion")
                VALUES ({Id(4)}, {Id(2)}, {Id(1)}, 0, 22, 'Tcp', '198.18.0.100', {time}, 'Approved', 1);
            INSERT INTO "Grants" ("Id", "RequestId", "MachineId", "Ordinal", "Port", "Protocol", "Sources", "EndTimeUtc", "Status", "PublishedVersion")
                VALUES ({Id(5)}, {Id(3)}, {Id(1)}, 0, 22, 'Tcp', '198.18.0.101', {time}, 'Approved', 1);
            """;
        await db.Database.ExecuteSqlRawAsync(rows, ct);
        await db.Database.MigrateAsync(ct);

        Assert.Equal([("198.18.0.100", "ada"), ("198.18.0.101", "bob")],
            (await db.Grants.OrderBy(g => g.Sources).Select(g => new { g.Sources, g.Requestor }).ToListAsync(ct)).Select(g => (g.Sources, g.Requestor)));
        await db.Database.EnsureDeletedAsync(ct);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class GrantRequestorMigrationTests_Sqlite() : GrantRequestorMigrationTests(new SqliteDatabase());

public sealed class GrantRequestorMigrationTests_Postgres() : GrantRequestorMigrationTests(new PostgresDatabase());
