using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Finds the machine an agent credential belongs to, the lookups of many requests in one query
/// (<see cref="Batched{TItem, TResult}"/>). Every agent request authenticates, and a change reaching a thousand agents
/// brings a thousand reports and next polls within milliseconds; a query each was most of what authentication cost
/// (bench/README.md, "Fan-out"). Each request still reads the database, so a credential stops working at once when
/// its machine is deleted or enrolled again.
/// </summary>
internal sealed class AgentCredentials(IServiceScopeFactory scopes, ILogger<AgentCredentials> logger) : Batched<string, Machine?>(logger, MaxBatch)
{
    /// <summary>A group's worth of agents in a few queries, each a short read.</summary>
    public const int MaxBatch = 256;

    // Compiled once (why: Storage/CompiledPerModel). The whole row: the agent endpoints take it from the request
    // instead of reading it again (AuthenticatedAgent).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string[], IAsyncEnumerable<Machine>>> ByCredentials =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string[] hashes) =>
            db.Machines.AsNoTracking().Where(m => hashes.Contains(m.AgentCredentialHash!))));

    /// <summary>The machine whose agent holds the credential with this hash; null when none does.</summary>
    public Task<Machine?> FindAsync(string credentialHash, CancellationToken ct) => RunBatchedAsync(credentialHash, ct);

    protected override Task<IReadOnlyList<Machine?>> RunTogetherAsync(IReadOnlyList<string> hashes) => FindTogetherAsync(hashes);

    /// <summary>The machines of a batch's credentials, in the batch's order (internal for tests: a batch of chosen credentials).</summary>
    internal async Task<IReadOnlyList<Machine?>> FindTogetherAsync(IReadOnlyList<string> hashes)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var machines = new Dictionary<string, Machine>(hashes.Count, StringComparer.Ordinal);
        await foreach (var machine in ByCredentials.For(db)(db, [.. hashes.Distinct()]))
        {
            machines[machine.AgentCredentialHash!] = machine;
        }

        // The same agent twice in a batch (a report and a poll) gets the same row: callers do not change it.
        return [.. hashes.Select(hash => machines.GetValueOrDefault(hash))];
    }
}
