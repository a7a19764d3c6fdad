using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Drawbridge.Server.Storage;

/// <summary>
/// How this server's SQLite connections are made, for speed (bench/README.md, "Throughput" and "Fan-out").
/// <list type="bullet">
/// <item>Without EF Core's SQL functions. EF Core registers seven on every connection it creates (regexp and decimal
/// arithmetic, none of which Drawbridge's queries use), and Microsoft.Data.Sqlite registers them with SQLite again on
/// every open, which a pooled connection does for every query: a fifth of what the server allocated while a change
/// reached 10,000 agents. The connection EF Core made is replaced by a plain one with the same connection string.</item>
/// <item>Reading the file through a memory map instead of read(2) calls. In WAL mode a connection drops its page cache
/// whenever another connection has written since its last read, and with an initiate or report committing every few
/// milliseconds that is almost every read: under load `perf` found a third of the server's CPU in the kernel, most of
/// it copying database pages into fresh caches. Mapped pages come straight from the kernel's page cache. The setting
/// belongs to a native connection, so it is made once per native connection (the pool reopens the same ones).</item>
/// </list>
/// </summary>
internal sealed class SqliteConnectionSetup : DbConnectionInterceptor
{
    /// <summary>Address space, not memory: only the pages read are resident, and they are the kernel's page cache.</summary>
    public const long MapBytes = 1L << 30;

    private readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> mapped = [];

    public override DbConnection ConnectionCreated(ConnectionCreatedEventData eventData, DbConnection result)
    {
        if (result is not SqliteConnection made)
        {
            return result;
        }

        // Never opened, so nothing native is let go; disposed so that it does not wait for its finalizer.
        var plain = new SqliteConnection(made.ConnectionString) { DefaultTimeout = made.DefaultTimeout };
        made.Dispose();
        return plain;
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => MapOnce(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        MapOnce(connection);
        return Task.CompletedTask;
    }

    private void MapOnce(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } sqlite && mapped.TryAdd(handle, this))
        {
            using var command = sqlite.CreateCommand();
            command.CommandText = $"PRAGMA mmap_size = {MapBytes}";
            command.ExecuteNonQuery();
        }
    }
}
