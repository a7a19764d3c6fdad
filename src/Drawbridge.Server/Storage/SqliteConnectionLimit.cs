using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Drawbridge.Server.Storage;

/// <summary>
/// Bounds how many SQLite connections this process has open at once. Microsoft.Data.Sqlite's pool has no ceiling, and
/// every connection holds three files (database, WAL, shared memory): with 10,000 agents polling at once the pool
/// grew until the process ran out of file descriptors (bench/README.md, fan-out). One file, one writer and two cores
/// gain nothing from more than a few dozen; a request beyond them waits for a connection instead of failing.
/// </summary>
internal sealed class SqliteConnectionLimit : DbConnectionInterceptor, IDisposable
{
    public const int MaxOpen = 32;

    /// <summary>Past this, a connection is leaking or the server is far beyond its capacity: fail the request, not hang.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim slots = new(MaxOpen, MaxOpen);

    public override async ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (!await slots.WaitAsync(Patience, cancellationToken))
        {
            throw new TimeoutException($"No SQLite connection free within {Patience.TotalSeconds} s");
        }

        return result;
    }

    public override InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        if (!slots.Wait(Patience))
        {
            throw new TimeoutException($"No SQLite connection free within {Patience.TotalSeconds} s");
        }

        return result;
    }

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => slots.Release();

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        slots.Release();
        return Task.CompletedTask;
    }

    public override void ConnectionFailed(DbConnection connection, ConnectionErrorEventData eventData) => slots.Release();

    public override Task ConnectionFailedAsync(DbConnection connection, ConnectionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        slots.Release();
        return Task.CompletedTask;
    }

    public void Dispose() => slots.Dispose();
}
