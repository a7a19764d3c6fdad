using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Agents;

/// <summary>
/// Builds the whole desired state of machines from the database: protected ports, live grants, security groups. The
/// states of many machines are read together (<see cref="Batched{TItem, TResult}"/>): a change to a group or policy
/// wakes the polls of up to a thousand machines at once, and three queries for each of them were most of what a change
/// reaching 10,000 agents cost (bench/README.md, "Fan-out"). A lone poll, as a grant's, reads at once.
/// </summary>
internal sealed class DesiredStateBuilder(IServiceScopeFactory scopes, ResolvedSecurityGroups resolved, TimeProvider time, ILogger<DesiredStateBuilder> logger)
    : Batched<DesiredStateBuilder.Wanted, DesiredState>(logger, MaxBatch)
{
    /// <summary>A group's machines in a few batches; each batch's reads are short.</summary>
    public const int MaxBatch = 256;

    // Compiled once (why: Storage/CompiledPerModel). AsQueryable() after OrderBy selects the sequence overload of
    // CompileAsyncQuery; an IOrderedQueryable would bind to the single-result one.
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid[], IAsyncEnumerable<JitPolicyPort>>> PortsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid[] machineIds) =>
            db.JitPolicyPorts.AsNoTracking().Where(p => machineIds.Contains(p.MachineId)).OrderBy(p => p.Number).AsQueryable()));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid[], DateTimeOffset, IAsyncEnumerable<Grant>>> LiveGrantsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid[] machineIds, DateTimeOffset now) =>
            db.Grants.AsNoTracking().Where(g => machineIds.Contains(g.MachineId) && GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now)
                .OrderBy(g => g.EndTimeUtc).AsQueryable()));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid[], IAsyncEnumerable<SecurityGroupAttachment>>> AttachmentsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid[] machineIds) =>
            db.SecurityGroupAttachments.AsNoTracking().Where(a => machineIds.Contains(a.MachineId))));

    // Each group once, however many of the batch's machines it is attached to.
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid[], IAsyncEnumerable<SecurityGroup>>> GroupsById =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid[] groupIds) =>
            db.SecurityGroups.AsNoTracking().Include(g => g.Rules).Where(g => groupIds.Contains(g.Id))));

    /// <summary>The state of <paramref name="machine"/>, published as <paramref name="version"/>.</summary>
    public Task<DesiredState> BuildAsync(Machine machine, long version, CancellationToken ct) =>
        RunBatchedAsync(new Wanted(machine.Id, machine.Name, version), ct);

    protected override Task<IReadOnlyList<DesiredState>> RunTogetherAsync(IReadOnlyList<Wanted> batch) => BuildTogetherAsync(batch);

    /// <summary>The states of a batch's machines, in the batch's order (internal for tests: a batch of chosen machines).</summary>
    internal async Task<IReadOnlyList<DesiredState>> BuildTogetherAsync(IReadOnlyList<Wanted> batch)
    {
        var now = time.GetUtcNow();
        var machineIds = batch.Select(m => m.MachineId).Distinct().ToArray();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();

        // One open for the reads: each open of a pooled SQLite connection costs about as much as a read.
        await db.Database.OpenConnectionAsync();
        ILookup<Guid, JitPolicyPort> ports;
        ILookup<Guid, Grant> grants;
        List<SecurityGroupAttachment> attachments;
        Dictionary<Guid, SecurityGroup> groups;
        try
        {
            ports = (await PortsOf.For(db)(db, machineIds).ToListAsync()).ToLookup(p => p.MachineId);
            grants = (await LiveGrantsOf.For(db)(db, machineIds, now).ToListAsync()).ToLookup(g => g.MachineId);
            attachments = await AttachmentsOf.For(db)(db, machineIds).ToListAsync();
            groups = attachments.Count == 0 ? []
                : await GroupsById.For(db)(db, [.. attachments.Select(a => a.GroupId).Distinct()]).ToDictionaryAsync(g => g.Id);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        var groupsOf = attachments.Where(a => groups.ContainsKey(a.GroupId)).ToLookup(a => a.MachineId, a => (a.Layer, Group: groups[a.GroupId]));
        return [.. batch.Select(m => new DesiredState
        {
            Version = m.Version,
            MachineName = m.MachineName,
            ServerTimeUtc = now,
            ProtectedPorts = [.. ports[m.MachineId].Select(p => new ProtectedPort { Number = p.Number, Protocol = WireProtocol(p.Protocol) })],
            Grants = [.. grants[m.MachineId].SelectMany(g => g.Sources.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(source => new DesiredGrant
            {
                Id = g.Id.ToString(),
                Source = source,
                Protocol = WireProtocol(g.Protocol),
                Port = g.Port,
                EndTimeUtc = g.EndTimeUtc,
            }))],
            SecurityGroups = [.. groupsOf[m.MachineId].OrderBy(g => g.Layer).ThenBy(g => g.Group.NameKey, StringComparer.Ordinal)
                .Select(g => resolved.Resolve(g.Group))],
        })];
    }

    public static string WireProtocol(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => "tcp",
        PortProtocol.Udp => "udp",
        PortProtocol.Any => "*",
    };

    /// <summary>One poll's machine and the version its state is published as.</summary>
    internal sealed record Wanted(Guid MachineId, string MachineName, long Version);
}
