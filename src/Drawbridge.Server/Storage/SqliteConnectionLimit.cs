using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Drawbridge.Server.Storage;

/// <summary>
/// Bounds how many SQLite connections this process has open at once. Microsoft.Data.Sqlite's pool has no ceiling, and
/// every connection holds three files (database, WAL, shared memory): with 10,000 agents polling at once the pool
/// grew until the process ran out of file descriptors (bench/README.md, fan-out). One file, one writer and two cores
/// gain nothing from more than a few dozen; a request beyond them waits for a connection instead of failing. A
/// connection gives its slot back when it closes, fails, or is disposed with its context while still open.
/// </summary>
internal sealed class SqliteConnectionLimit : DbConnectionInterceptor, IDisposable
{
    public const int MaxOpen = 32;

    private readonly HeldSlots slots = new(MaxOpen, "SQLite connection");

    public override async ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        await slots.TakeAsync(eventData.ConnectionId, cancellationToken);
        return result;
    }

    public override InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        slots.Take(eventData.ConnectionId);
        return result;
    }

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => slots.GiveBack(eventData.ConnectionId);

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        slots.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public override void ConnectionFailed(DbConnection connection, ConnectionErrorEventData eventData) => slots.GiveBack(eventData.ConnectionId);

    public override Task ConnectionFailedAsync(DbConnection connection, ConnectionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        slots.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public override void ConnectionDisposed(DbConnection connection, ConnectionEndEventData eventData) => slots.GiveBack(eventData.ConnectionId);

    public override Task ConnectionDisposedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        slots.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public void Dispose() => slots.Dispose();
}
