using System.Globalization;
using Drawbridge.Posture;
using Drawbridge.Server.Network;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Posture;

/// <summary>One machine as the posture engine sees it, with the stored groups behind its NSGs (to name them in ARM ids).</summary>
internal sealed record MachinePosture(Machine Machine, PostureInput Input, IReadOnlyList<(SecurityGroup Group, NetworkSecurityGroup Nsg)> Groups);

internal static class PostureInputs
{
    /// <summary>The posture inputs of <paramref name="machines"/> in four queries, however many machines there are.</summary>
    public static async Task<List<MachinePosture>> LoadAsync(DrawbridgeDbContext db, IReadOnlyList<Machine> machines, CancellationToken ct)
    {
        var ids = machines.Select(r => r.Id).ToList();
        var jitPorts = (await db.JitPolicyPorts.AsNoTracking().Where(p => ids.Contains(p.MachineId)).Select(p => new { p.MachineId, p.Number }).ToListAsync(ct))
            .ToLookup(p => p.MachineId, p => p.Number);
        var attachments = await db.SecurityGroupAttachments.AsNoTracking().Where(a => ids.Contains(a.MachineId)).ToListAsync(ct);
        var groupIds = attachments.Select(a => a.GroupId).Distinct().ToList();
        var groups = (await db.SecurityGroups.AsNoTracking().Include(g => g.Rules).Where(g => groupIds.Contains(g.Id)).ToListAsync(ct))
            .ToDictionary(g => g.Id, g => (Group: g, Nsg: SecurityGroupMapping.ToPosture(g)));
        var groupsOf = attachments.ToLookup(a => a.MachineId);

        return machines.Select(machine =>
        {
            var ports = jitPorts[machine.Id].ToHashSet();
            var nsgs = groupsOf[machine.Id].OrderBy(a => a.Layer).ThenBy(a => groups[a.GroupId].Group.NameKey, StringComparer.Ordinal).Select(a => groups[a.GroupId]).ToList();
            var input = new PostureInput(ports.Count > 0 ? ports : null, nsgs.Select(n => n.Nsg).ToList(), machine.AgentCredentialHash is not null, HostFactsOf(machine),
                JitUnavailable(machine));
            return new MachinePosture(machine, input, nsgs);
        }).ToList();
    }

    /// <summary>Why JIT cannot protect the machine (null: it can): an imported machine has no Drawbridge agent to enforce it.</summary>
    public static string? JitUnavailable(Machine machine) => machine.ImportedFrom is { } source
        ? $"imported from {source}: JIT needs a Drawbridge agent on the machine, and cloud connectors are not built"
        : null;

    private static HostFacts? HostFactsOf(Machine machine) => machine.ListeningPorts is null ? null : new HostFacts(
        machine.ListeningPorts.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToHashSet(),
        machine.OtherInputFilters?.Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? []);
}
