using System.Data.Common;
using Drawbridge.Jit;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Jit;

/// <summary>
/// An initiate checked against its policy and the caller's roles, ready to write: the request with its grants (their
/// state versions are given when written) and the audit event that records it. It is decided at the request's start
/// time, as its grants were checked.
/// </summary>
internal sealed record PendingInitiate(AccessRequest Request, AuditEvent Audit);

/// <summary>
/// Writes initiates, many to one transaction (<see cref="Batched{TItem, TResult}"/>). Every initiate is a durable
/// write and SQLite has one writer: written one by one, concurrent initiates queued for the write lock, and each held
/// it through its own fsync'd commit (bench/README.md, "Throughput"). Within the batch each initiate is still decided
/// alone, in arrival order and on what the ones before it wrote: it replaces the live grant of the same machine, port
/// and source, and is refused if its requestor would hold more live grants than the cap. The result is null when the
/// initiate was written, otherwise the live grants its requestor holds (it was refused, and nothing of it written).
/// </summary>
internal sealed class InitiateWriter(
    IServiceScopeFactory scopes, MachineStateNotifier notifier, GrantExpiryService expiry, IOptions<DrawbridgeOptions> options, ILogger<InitiateWriter> logger)
    : Batched<PendingInitiate, int?>(logger, MaxBatch)
{
    /// <summary>A batch is one transaction holding SQLite's write lock: long enough to share a commit, short enough not to stall other writers.</summary>
    public const int MaxBatch = 64;

    private const string Savepoint = "initiate";

    // Compiled once: run for every initiate (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, DateTimeOffset, CancellationToken, Task<int>>> LiveGrantsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string requestor, DateTimeOffset now, CancellationToken ct) =>
            db.Grants.Count(g => g.Requestor == requestor && GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now)));

    /// <summary>Completes once the initiate is committed (null) or refused (the live grants its requestor holds).</summary>
    public Task<int?> WriteAsync(PendingInitiate initiate, CancellationToken ct) => RunBatchedAsync(initiate, ct);

    protected override async Task<IReadOnlyList<int?>> RunTogetherAsync(IReadOnlyList<PendingInitiate> batch)
    {
        var ct = CancellationToken.None; // a batch is written to the end (Batched)
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var results = new int?[batch.Count];
        var versions = new Dictionary<Guid, long>();
        for (var i = 0; i < batch.Count; i++)
        {
            // A refused initiate is rolled back to here, so its supersedes do not stay.
            await tx.CreateSavepointAsync(Savepoint, ct);
            results[i] = await WriteOneAsync(db, batch[i], versions, ct);
            if (results[i] is not null)
            {
                await tx.RollbackToSavepointAsync(Savepoint, ct);
            }

            await tx.ReleaseSavepointAsync(Savepoint, ct);
        }

        // The audit events of the written initiates, chained in the order they were decided, in one statement.
        var written = batch.Where((_, i) => results[i] is null).ToList();
        if (written.Count > 0)
        {
            var events = written.ConvertAll(w => w.Audit);
            await db.ChainAsync(events, ct);
            await db.InsertAsync(events, ct);
        }

        await tx.CommitAsync(ct);
        notifier.Publish(versions);
        if (written.Count > 0)
        {
            expiry.Wake(written.Min(w => w.Request.Grants.Min(g => g.EndTimeUtc)));
        }

        return results;
    }

    /// <returns>Null when written; the requestor's live grants when it would pass the cap.</returns>
    private async Task<int?> WriteOneAsync(DrawbridgeDbContext db, PendingInitiate initiate, Dictionary<Guid, long> versions, CancellationToken ct)
    {
        var (request, now) = (initiate.Request, initiate.Request.StartTimeUtc);

        // A newer request for the same machine, port and source replaces the older grant (Azure's NewerRequestInitiated).
        // Superseded first, so that the cap below does not count grants that end in this request.
        foreach (var grant in request.Grants)
        {
            await SupersedeAsync(db, grant, now, ct);
        }

        // A principal may hold only so many live grants. Counted inside the transaction, after the initiates before
        // this one, so concurrent requests of one principal cannot both slip under the cap.
        var live = await LiveGrantsOf.For(db)(db, request.Requestor, now, ct);
        if (live + request.Grants.Count > options.Value.Limits.MaxActiveGrantsPerUser)
        {
            return live;
        }

        foreach (var machineId in request.Grants.Select(g => g.MachineId).Distinct())
        {
            versions[machineId] = await db.BumpAsync(machineId, ct);
        }

        foreach (var grant in request.Grants)
        {
            grant.PublishedVersion = versions[grant.MachineId];
        }

        // The request and its grants in one statement (the hottest write: Storage/DirectStatements).
        await db.InsertAsync([request, .. request.Grants], ct);
        return null;
    }

    /// <summary>
    /// Ends the live grant of the grant's machine, port and sources, if there is one, re-checking the status in the
    /// same statement as every end of a grant does. A direct command (Storage/DirectStatements): as an
    /// <c>ExecuteUpdate</c> EF Core translated it again on every initiate. The <c>substr</c> term is what the index
    /// IX_Grants_Supersede (migration GrantSupersedeIndex) is on, so the lookup does not grow with the machine's live
    /// grants; the whole sources are compared as well.
    /// </summary>
    private static async Task SupersedeAsync(DrawbridgeDbContext db, Grant grant, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = DirectStatements.Command(db);
        command.CommandText = $"""
            UPDATE "Grants" SET "Status" = @revoked, "EndReason" = @reason, "EndedBy" = @by, "EndedUtc" = @now
            WHERE "MachineId" = @machine AND "Port" = @port AND substr("Sources", 1, 256) = substr(@sources, 1, 256) AND "Sources" = @sources
                AND "Status" IN ({db.InList<Grant, GrantStatus>(nameof(Grant.Status), GrantLifecycle.Live)})
            """;
        command.Parameters.AddRange((DbParameter[])[
            db.Parameter<Grant>(command, nameof(Grant.Status), "@revoked", GrantStatus.Revoked),
            db.Parameter<Grant>(command, nameof(Grant.EndReason), "@reason", GrantEndReason.NewerRequestInitiated),
            db.Parameter<Grant>(command, nameof(Grant.EndedBy), "@by", grant.Requestor),
            db.Parameter<Grant>(command, nameof(Grant.EndedUtc), "@now", now),
            db.Parameter<Grant>(command, nameof(Grant.MachineId), "@machine", grant.MachineId),
            db.Parameter<Grant>(command, nameof(Grant.Port), "@port", grant.Port),
            db.Parameter<Grant>(command, nameof(Grant.Sources), "@sources", grant.Sources),
        ]);
        await command.ExecuteNonQueryAsync(ct);
    }
}
