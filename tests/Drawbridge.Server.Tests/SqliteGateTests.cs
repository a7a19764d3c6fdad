using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

/// <summary>
/// The SQLite write gate and connection limit, on a real database file: every way a write can end lets the next writer
/// in (a leaked gate would make the next write wait its 30 s patience and fail), and waiting is only ever for a slot.
/// </summary>
public sealed class SqliteGateTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("drawbridge-gate-test").FullName;
    private readonly SqliteWriteGate gate = new();
    private readonly SqliteConnectionLimit limit = new();

    private SqliteDrawbridgeDbContext NewContext() =>
        new(new DbContextOptionsBuilder<SqliteDrawbridgeDbContext>().UseSqlite($"Data Source={directory}/gate.db").AddInterceptors(limit, gate).Options);

    [Fact]
    public async Task EveryConnection_ReadsTheFileThroughAMemoryMap_WithoutEfCoresFunctions()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new DbContextOptionsBuilder<SqliteDrawbridgeDbContext>().UseSqlite($"Data Source={directory}/map.db").AddInterceptors(new SqliteConnectionSetup()).Options;
        for (var open = 0; open < 2; open++)
        {
            // The second open takes the same native connection from the pool, already configured.
            await using var db = new SqliteDrawbridgeDbContext(options);
            await db.Database.OpenConnectionAsync(ct);
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA mmap_size";
            Assert.Equal(SqliteConnectionSetup.MapBytes, await command.ExecuteScalarAsync(ct));

            // EF Core registers ef_add and six more on every connection it makes; registering them on every open
            // was a fifth of the server's allocations under load, and no query of Drawbridge's uses them.
            command.CommandText = "SELECT ef_add(1, 2)";
            var missing = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => command.ExecuteScalarAsync(ct));
            Assert.Contains("no such function", missing.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryEndOfAWrite_LetsTheNextWriterIn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var db = NewContext())
        {
            await db.Database.MigrateAsync(ct);
        }

        // A transaction disposed without commit or rollback (an exception on the way), its context still in use.
        await using var first = NewContext();
        await using (var tx = await first.Database.BeginTransactionAsync(ct))
        {
            first.ResourceGroups.Add(new ResourceGroup { Name = "a", NameKey = "a" });
            await first.SaveChangesAsync(ct);
        }

        first.ChangeTracker.Clear();

        // A rolled-back transaction, and an autocommit write that fails (duplicate key).
        await using (var db = NewContext())
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await tx.RollbackAsync(ct);
            await db.Database.ExecuteSqlRawAsync("""INSERT INTO "ResourceGroups" ("NameKey", "Name") VALUES ('b', 'b')""", ct);
            await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() =>
                db.Database.ExecuteSqlRawAsync("""INSERT INTO "ResourceGroups" ("NameKey", "Name") VALUES ('b', 'b')""", ct));
        }

        // Then many writers at once, each in its own context and transaction: all get in, one at a time, none lost.
        await Task.WhenAll(Enumerable.Range(0, 3 * SqliteConnectionLimit.MaxOpen).Select(async i =>
        {
            await using var db = NewContext();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.ResourceGroups.Add(new ResourceGroup { Name = $"g{i}", NameKey = $"g{i}" });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }));

        await using var check = NewContext();
        Assert.Equal(["b", .. Enumerable.Range(0, 3 * SqliteConnectionLimit.MaxOpen).Select(i => $"g{i}").Order(StringComparer.Ordinal)],
            await check.ResourceGroups.Select(g => g.NameKey).OrderBy(k => k).ToListAsync(ct));
    }

    [Fact]
    public async Task AContextDisposedWithItsConnectionOpen_GivesItsConnectionBack()
    {
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i <= SqliteConnectionLimit.MaxOpen; i++)
        {
            // Opened and never closed: disposing the context must still free its slot, or the last open waits and fails.
            await using var db = NewContext();
            await db.Database.OpenConnectionAsync(ct);
        }

        await using var check = NewContext();
        Assert.True(await check.Database.CanConnectAsync(ct));
    }

    public void Dispose()
    {
        gate.Dispose();
        limit.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
