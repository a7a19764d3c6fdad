using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Agents;

/// <summary>Builds the whole desired state of one machine from the database: protected ports, live grants, security groups.</summary>
internal sealed class DesiredStateBuilder(DrawbridgeDbContext db, ResolvedSecurityGroups resolved, TimeProvider time)
{
    // Compiled once: a change to a group or policy builds the state of up to a thousand machines at once
    // (why: Storage/CompiledPerModel). AsQueryable() after OrderBy selects the sequence overload of
    // CompileAsyncQuery; an IOrderedQueryable would bind to the single-result one.
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, IAsyncEnumerable<JitPolicyPort>>> PortsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid machineId) =>
            db.JitPolicyPorts.AsNoTracking().Where(p => p.MachineId == machineId).OrderBy(p => p.Number).AsQueryable()));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, DateTimeOffset, IAsyncEnumerable<Grant>>> LiveGrantsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid machineId, DateTimeOffset now) =>
            db.Grants.AsNoTracking().Where(g => g.MachineId == machineId && GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now).OrderBy(g => g.EndTimeUtc).AsQueryable()));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, IAsyncEnumerable<AttachedGroup>>> GroupsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid machineId) =>
            db.SecurityGroupAttachments.AsNoTracking()
                .Where(a => a.MachineId == machineId)
                .Join(db.SecurityGroups.Include(g => g.Rules), a => a.GroupId, g => g.Id, (a, g) => new AttachedGroup(a.Layer, g))));

    public async Task<DesiredState> BuildAsync(Machine machine, CancellationToken ct)
    {
        var now = time.GetUtcNow();

        // One open for the three reads: each open of a pooled SQLite connection costs about as much as a read.
        await db.Database.OpenConnectionAsync(ct);
        List<JitPolicyPort> ports;
        List<Grant> grants;
        List<AttachedGroup> groups;
        try
        {
            ports = await PortsOf.For(db)(db, machine.Id).ToListAsync(ct);
            grants = await LiveGrantsOf.For(db)(db, machine.Id, now).ToListAsync(ct);
            groups = await GroupsOf.For(db)(db, machine.Id).ToListAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return new DesiredState
        {
            Version = machine.StateVersion,
            MachineName = machine.Name,
            ServerTimeUtc = now,
            ProtectedPorts = ports.Select(p => new ProtectedPort { Number = p.Number, Protocol = WireProtocol(p.Protocol) }).ToList(),
            Grants = grants.SelectMany(g => g.Sources.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(source => new DesiredGrant
            {
                Id = g.Id.ToString(),
                Source = source,
                Protocol = WireProtocol(g.Protocol),
                Port = g.Port,
                EndTimeUtc = g.EndTimeUtc,
            })).ToList(),
            SecurityGroups = groups.OrderBy(g => g.Layer).ThenBy(g => g.Group.NameKey, StringComparer.Ordinal)
                .Select(g => resolved.Resolve(g.Group)).ToList(),
        };
    }

    public static string WireProtocol(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => "tcp",
        PortProtocol.Udp => "udp",
        PortProtocol.Any => "*",
    };

    private sealed record AttachedGroup(int Layer, SecurityGroup Group);
}
