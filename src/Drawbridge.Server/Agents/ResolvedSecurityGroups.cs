using Drawbridge.Contracts;
using Drawbridge.Posture;
using Drawbridge.Server.Network;
using Drawbridge.Server.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Drawbridge.Server.Agents;

/// <summary>
/// A security group resolved for hosts (rules in evaluation order, service tags as prefixes), once per content instead
/// of once per machine: a change to a group builds the state of up to a thousand machines that all carry it, and
/// resolving it again for each was a sixth of what the server allocated while a change reached 10,000 agents
/// (bench/README.md, "Fan-out"). An entry is used only while the group read from the database has exactly the rules
/// it was resolved from, so no version or clock decides whether it is current; unused entries expire.
/// </summary>
internal sealed class ResolvedSecurityGroups(IMemoryCache cache)
{
    private static readonly TimeSpan Unused = TimeSpan.FromMinutes(10);

    public DesiredSecurityGroup Resolve(SecurityGroup group)
    {
        var key = (typeof(ResolvedSecurityGroups), group.Id);
        if (cache.TryGetValue(key, out Entry? entry) && SameRules(entry!.Group, group))
        {
            return entry.Resolved;
        }

        var resolved = HostRules.Resolve(SecurityGroupMapping.ToPosture(group));
        cache.Set(key, new Entry(group, resolved), new MemoryCacheEntryOptions { SlidingExpiration = Unused });
        return resolved;
    }

    private static bool SameRules(SecurityGroup cached, SecurityGroup read) =>
        cached.Name == read.Name && cached.Kind == read.Kind && cached.Rules.Count == read.Rules.Count
        && cached.Rules.OrderBy(r => r.Ordinal).Zip(read.Rules.OrderBy(r => r.Ordinal)).All(pair => SameRule(pair.First, pair.Second));

    private static bool SameRule(SecurityGroupRule a, SecurityGroupRule b) =>
        a.Ordinal == b.Ordinal && a.Name == b.Name && a.Priority == b.Priority && a.Direction == b.Direction && a.Access == b.Access
        && a.Protocol == b.Protocol && a.Sources == b.Sources && a.DestinationPorts == b.DestinationPorts;

    /// <summary>The group as read (never changed afterwards: read without tracking) and what it resolved to.</summary>
    private sealed record Entry(SecurityGroup Group, DesiredSecurityGroup Resolved);
}
