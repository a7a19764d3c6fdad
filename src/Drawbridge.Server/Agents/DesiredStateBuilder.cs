using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Network;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Agents;

/// <summary>Builds the whole desired state of one machine from the database: protected ports, live grants, security groups.</summary>
internal sealed class DesiredStateBuilder(DrawbridgeDbContext db, TimeProvider time)
{
    public async Task<DesiredState> BuildAsync(Machine machine, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var ports = await db.JitPolicyPorts.AsNoTracking()
            .Where(p => p.MachineId == machine.Id)
            .OrderBy(p => p.Number)
            .Select(p => new { p.Number, p.Protocol })
            .ToListAsync(ct);

        var grants = await db.Grants.AsNoTracking()
            .Where(g => g.MachineId == machine.Id && GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now)
            .OrderBy(g => g.EndTimeUtc)
            .ToListAsync(ct);

        var groups = await db.SecurityGroupAttachments.AsNoTracking()
            .Where(a => a.MachineId == machine.Id)
            .Join(db.SecurityGroups.Include(g => g.Rules), a => a.GroupId, g => g.Id, (a, g) => new { a.Layer, Group = g })
            .ToListAsync(ct);

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
                .Select(g => HostRules.Resolve(SecurityGroupMapping.ToPosture(g.Group))).ToList(),
        };
    }

    public static string WireProtocol(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => "tcp",
        PortProtocol.Udp => "udp",
        PortProtocol.Any => "*",
    };
}
