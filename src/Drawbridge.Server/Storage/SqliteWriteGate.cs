using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Drawbridge.Server.Storage;

/// <summary>
/// Queues this process's SQLite writers, in arrival order, without blocking threads. SQLite has a single writer; left
/// to collide, a writer that finds the database locked is retried by Microsoft.Data.Sqlite after a 150 ms sleep that
/// holds its thread, so under concurrent initiates, agent reports and long-polls the API stalled for hundreds of
/// milliseconds on this 2-core machine (bench/README.md). A transaction holds the gate from BEGIN until it commits,
/// rolls back or its connection closes; a write outside a transaction holds it for that one statement. Reads never
/// wait for it (WAL). One gate per database file, shared by every context of the process.
/// </summary>
internal sealed class SqliteWriteGate : DbConnectionInterceptor, IDbTransactionInterceptor, IDbCommandInterceptor, IDisposable
{
    // Held by a connection (for its transaction) or a command (for one autocommit write).
    private readonly HeldSlots gate = new(1, "SQLite write slot");

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        await gate.TakeAsync(eventData.ConnectionId, cancellationToken);
        return result;
    }

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        gate.Take(eventData.ConnectionId);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => gate.GiveBack(eventData.ConnectionId);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => gate.GiveBack(eventData.ConnectionId);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    // A transaction disposed without commit or rollback (an exception, a failed commit) is rolled back by SQLite; EF
    // closes the connection it opened for it (or disposes it with the context), and that is when its gate is let go.
    public override InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        gate.GiveBack(eventData.ConnectionId);
        return result;
    }

    public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        gate.GiveBack(eventData.ConnectionId);
        return ValueTask.FromResult(result);
    }

    public override void ConnectionDisposed(DbConnection connection, ConnectionEndEventData eventData) => gate.GiveBack(eventData.ConnectionId);

    public override Task ConnectionDisposedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        gate.GiveBack(eventData.ConnectionId);
        return Task.CompletedTask;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (IsAutocommitWrite(command))
        {
            await gate.TakeAsync(eventData.CommandId, cancellationToken);
        }

        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (IsAutocommitWrite(command))
        {
            gate.Take(eventData.CommandId);
        }

        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        gate.GiveBack(eventData.CommandId);
        return ValueTask.FromResult(result);
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        gate.GiveBack(eventData.CommandId);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (IsAutocommitWrite(command))
        {
            await gate.TakeAsync(eventData.CommandId, cancellationToken);
        }

        return result;
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (IsAutocommitWrite(command))
        {
            gate.Take(eventData.CommandId);
        }

        return result;
    }

    // A write read back through a reader (INSERT ... RETURNING) is done when its reader is.
    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        gate.GiveBack(eventData.CommandId);
        return result;
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => gate.GiveBack(eventData.CommandId);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.GiveBack(eventData.CommandId);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => gate.GiveBack(eventData.CommandId);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.GiveBack(eventData.CommandId);
        return Task.CompletedTask;
    }

    /// <summary>A write outside a transaction; inside one, the transaction already holds the gate.</summary>
    private static bool IsAutocommitWrite(DbCommand command)
    {
        if (command.Transaction is not null)
        {
            return false;
        }

        var sql = command.CommandText.AsSpan().TrimStart();
        return sql.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase) || sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
            || sql.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase) || sql.StartsWith("REPLACE", StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose() => gate.Dispose();
}
