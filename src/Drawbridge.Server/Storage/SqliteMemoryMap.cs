using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Drawbridge.Server.Storage;

/// <summary>
/// Has every SQLite connection read the database file through a memory map instead of read(2) calls. In WAL mode a
/// connection drops its page cache whenever another connection has written since its last read, and with an initiate
/// or report committing every few milliseconds that is almost every read: under load `perf` found a third of the
/// server's CPU in the kernel, most of it copying database pages into fresh caches (bench/README.md, "Throughput").
/// Mapped pages come straight from the kernel's page cache. The setting belongs to a connection, so it is made once
/// per native connection (the pool reopens the same ones).
/// </summary>
internal sealed class SqliteMemoryMap : DbConnectionInterceptor
{
    /// <summary>Address space, not memory: only the pages read are resident, and they are the kernel's page cache.</summary>
    public const long MapBytes = 1L << 30;

    private readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> configured = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Configure(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Configure(connection);
        return Task.CompletedTask;
    }

    private void Configure(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } sqlite && configured.TryAdd(handle, this))
        {
            using var command = sqlite.CreateCommand();
            command.CommandText = $"PRAGMA mmap_size = {MapBytes}";
            command.ExecuteNonQuery();
        }
    }
}
