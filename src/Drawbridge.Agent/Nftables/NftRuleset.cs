using System.Globalization;
using System.Text;
using Drawbridge.Contracts;
using Drawbridge.Net;
using Drawbridge.Posture;

namespace Drawbridge.Agent.Nftables;

/// <summary>What identifies a grant-set element in the kernel: source, transport and port.</summary>
internal readonly record struct ElementKey(IpPrefix Source, string Protocol, int Port)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Source} . {Protocol} . {Port}");
}

/// <summary>One element of a grant set: who may open which port, for how much longer.</summary>
internal sealed record GrantElement(IpPrefix Source, string Protocol, int Port, TimeSpan Remaining)
{
    public ElementKey Key => new(Source, Protocol, Port);
}

/// <summary>
/// Renders a desired state as one nft script that replaces table <c>inet drawbridge</c> atomically. Pure: the
/// same input gives the same text, which the golden-file tests pin down.
/// </summary>
internal static class NftRuleset
{
    public const string Family = "inet";
    public const string Table = "drawbridge";

    /// <summary>Elements whose time left is below this are dropped: the kernel needs a positive timeout.</summary>
    public static readonly TimeSpan MinimumTimeout = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Turns the state's grants into set elements with the time each has left. Kernel interval sets refuse
    /// overlapping elements, so overlapping grants are made disjoint: the longest-lived grant keeps all its
    /// addresses and a shorter one only gets what is left over, which is exactly the union of both.
    /// </summary>
    public static List<GrantElement> Elements(DesiredState state, DateTimeOffset serverNow)
    {
        var elements = new List<GrantElement>();
        var candidates = state.Grants
            .SelectMany(g => Protocols(g.Protocol).Select(p => (Grant: g, Protocol: p)))
            .Select(x => (x.Grant, x.Protocol, Source: IpPrefix.TryParse(x.Grant.Source, out var s, out _) ? s : null, Remaining: x.Grant.EndTimeUtc - serverNow))
            .Where(x => x.Source is not null && x.Remaining >= MinimumTimeout)
            .GroupBy(x => (x.Protocol, x.Grant.Port, x.Source!.Value.IsIPv4));

        foreach (var group in candidates)
        {
            // What longer-lived grants already hold, as sorted intervals: each grant costs one linear subtraction
            // instead of one per earlier piece (1,000 grants on one port took 52 ms and 177 MB that way).
            var covered = AddressSpace.Empty;
            foreach (var item in group.OrderByDescending(x => x.Remaining).ThenBy(x => x.Source!.Value.Length))
            {
                var left = AddressSpace.Of([item.Source!.Value]).Except(covered);
                if (left.IsEmpty)
                {
                    continue;
                }

                foreach (var piece in left.Prefixes)
                {
                    elements.Add(new GrantElement(piece, item.Protocol, item.Grant.Port, item.Remaining));
                }

                covered = covered.Union(left);
            }
        }

        return elements
            .OrderBy(e => e.Source.IsIPv4 ? 0 : 1).ThenBy(e => e.Port).ThenBy(e => e.Protocol, StringComparer.Ordinal)
            .ThenBy(e => e.Source.ToString(), StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The whole table as one transaction: create-if-missing, delete, re-create with everything in it. Evaluation
    /// order, as in Azure: established traffic, grants, then each security group in turn (its own rules by priority,
    /// the JIT deny, its default rules), or the JIT deny alone when the machine has no group.
    /// </summary>
    public static string Render(DesiredState state, IReadOnlyList<GrantElement> elements)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"table {Family} {Table} {{}}\n");
        sb.Append(CultureInfo.InvariantCulture, $"delete table {Family} {Table}\n");
        sb.Append(CultureInfo.InvariantCulture, $"table {Family} {Table} {{\n");
        RenderSet(sb, "grants4", "ipv4_addr", elements.Where(e => e.Source.IsIPv4));
        RenderSet(sb, "grants6", "ipv6_addr", elements.Where(e => !e.Source.IsIPv4));
        sb.Append("\tchain input {\n");
        sb.Append("\t\ttype filter hook input priority filter - 10; policy accept;\n");
        sb.Append("\t\tct state established,related accept\n");
        sb.Append("\t\tiif \"lo\" accept\n");

        // IPv6 neighbour discovery is the host's own plumbing, not traffic a security group governs (Azure's fabric
        // answers it outside the NSG); a group's DenyAllInBound must not cut the host off its IPv6 network.
        sb.Append("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept\n");
        sb.Append("\t\tip saddr . meta l4proto . th dport @grants4 accept\n");
        sb.Append("\t\tip6 saddr . meta l4proto . th dport @grants6 accept\n");
        for (var i = 0; i < state.SecurityGroups.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\t\tjump nsg{i} comment \"{Comment(state.SecurityGroups[i].Name)}\"\n");
        }

        if (state.SecurityGroups.Count == 0)
        {
            RenderJitDeny(sb, state.ProtectedPorts);
        }

        sb.Append("\t}\n");
        for (var i = 0; i < state.SecurityGroups.Count; i++)
        {
            RenderGroup(sb, i, state.SecurityGroups[i], state.ProtectedPorts);
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>
    /// One group as a chain: an allow returns (this group lets the packet on to the next one), a deny drops. The JIT
    /// deny sits below the group's own rules and above Azure's defaults, where Azure puts it.
    /// </summary>
    private static void RenderGroup(StringBuilder sb, int index, DesiredSecurityGroup group, IReadOnlyList<ProtectedPort> protectedPorts)
    {
        sb.Append(CultureInfo.InvariantCulture, $"\tchain nsg{index} {{\n");
        var jitDenyWritten = false;
        foreach (var rule in group.Rules)
        {
            if (!jitDenyWritten && rule.Priority > JitDenyPriority)
            {
                RenderJitDeny(sb, protectedPorts);
                jitDenyWritten = true;
            }

            var verdict = rule.Access switch { "allow" => "return", "deny" => "drop", _ => throw Invalid(group, rule, $"access '{rule.Access}'") };
            var match = ProtocolAndPorts(group, rule);
            var comment = Comment($"{rule.Name} ({rule.Priority})");
            var sources = rule.Sources.Select(s => IpPrefix.TryParse(s, out var p, out _) ? p.Value : throw Invalid(group, rule, $"source '{s}'")).ToList();
            var v4 = sources.Where(p => p.IsIPv4).Select(p => p.ToString()).ToList();
            var v6 = sources.Where(p => !p.IsIPv4).Select(p => p.ToString()).ToList();
            if (sources.Count == 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\t\t{match}{verdict} comment \"{comment}\"\n");
            }

            if (v4.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\t\tip saddr {Set(v4)} {match}{verdict} comment \"{comment}\"\n");
            }

            if (v6.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\t\tip6 saddr {Set(v6)} {match}{verdict} comment \"{comment}\"\n");
            }
        }

        if (!jitDenyWritten)
        {
            RenderJitDeny(sb, protectedPorts);
        }

        sb.Append("\t}\n");
    }

    /// <summary>The highest priority a user's rule can have (Azure's range is 100..4096); anything above is a default rule.</summary>
    private const int JitDenyPriority = 4096;

    private static void RenderJitDeny(StringBuilder sb, IReadOnlyList<ProtectedPort> protectedPorts)
    {
        foreach (var protocol in new[] { "tcp", "udp" })
        {
            var ports = protectedPorts.Where(p => Protocols(p.Protocol).Contains(protocol)).Select(p => p.Number).Distinct().Order().ToList();
            if (ports.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\t\tmeta l4proto {protocol} th dport {{ {string.Join(", ", ports)} }} drop comment \"jit-deny\"\n");
            }
        }
    }

    /// <summary>"meta l4proto tcp th dport { 22, 1000-2000 } ", or less when the rule matches any protocol or port.</summary>
    private static string ProtocolAndPorts(DesiredSecurityGroup group, DesiredSecurityRule rule)
    {
        // Rendered from parsed values only: whatever the server sent, nothing but addresses and numbers reaches the script.
        var ports = PortRange.Merge(rule.Ports.Select(p => PortRange.TryParse(p, out var range) ? range : throw Invalid(group, rule, $"port '{p}'")))
            .Select(r => r.ToString()).ToList();
        var protocols = rule.Protocol switch
        {
            "tcp" => "tcp",
            "udp" => "udp",
            "*" => ports.Count > 0 ? "{ tcp, udp }" : null,
            _ => throw Invalid(group, rule, $"protocol '{rule.Protocol}'"),
        };
        var sb = new StringBuilder();
        if (protocols is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"meta l4proto {protocols} ");
        }

        if (ports.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"th dport {Set(ports)} ");
        }

        return sb.ToString();
    }

    private static NftException Invalid(DesiredSecurityGroup group, DesiredSecurityRule rule, string what) =>
        new($"security group {Comment(group.Name)} rule {Comment(rule.Name)} has an invalid {what}; state not applied");

    private static string Set(List<string> items) => items.Count == 1 ? items[0] : $"{{ {string.Join(", ", items)} }}";

    /// <summary>Names are ARM names already; anything else is dropped so a comment can never end the string early.</summary>
    private static string Comment(string text) =>
        new(text.Where(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or '_' or '-' or '(' or ')').Take(120).ToArray());

    /// <summary>
    /// Deletes and re-adds <paramref name="elements"/> with their timeouts in one transaction, so each element's kernel
    /// countdown starts again from the time left now, and the element is never out of its set.
    /// </summary>
    public static string RestartTimeouts(IReadOnlyList<GrantElement> elements) => DeleteThenAdd(elements, elements);

    /// <summary>
    /// One transaction that turns the grant sets holding <paramref name="before"/> into ones holding
    /// <paramref name="after"/> (both taken at the same instant): elements that ended go, new ones come, and an element
    /// in both with another time left is deleted and added again. Empty when nothing changes.
    /// </summary>
    public static string ElementChanges(IReadOnlyList<GrantElement> before, IReadOnlyList<GrantElement> after)
    {
        var kept = before.Intersect(after).ToHashSet();
        return DeleteThenAdd(before.Where(e => !kept.Contains(e)).ToList(), after.Where(e => !kept.Contains(e)).ToList());
    }

    private static string DeleteThenAdd(IReadOnlyList<GrantElement> deleted, IReadOnlyList<GrantElement> added) =>
        DeleteThenAdd("grants4", deleted.Where(e => e.Source.IsIPv4), added.Where(e => e.Source.IsIPv4))
        + DeleteThenAdd("grants6", deleted.Where(e => !e.Source.IsIPv4), added.Where(e => !e.Source.IsIPv4));

    private static string DeleteThenAdd(string set, IEnumerable<GrantElement> deleted, IEnumerable<GrantElement> added)
    {
        var keys = string.Join(", ", deleted.Select(e => e.Key));
        var elements = string.Join(", ", added.Select(WithTimeout));
        return (keys.Length == 0 ? "" : $"delete element {Family} {Table} {set} {{ {keys} }}\n")
            + (elements.Length == 0 ? "" : $"add element {Family} {Table} {set} {{ {elements} }}\n");
    }

    /// <summary>An element as nft writes it in a set: key and kernel timeout.</summary>
    private static string WithTimeout(GrantElement element) => $"{element.Key} timeout {Timeout(element.Remaining)}";

    /// <summary>Kernel timeouts in milliseconds, rounded up so a grant never closes before its end time.</summary>
    public static string Timeout(TimeSpan remaining) =>
        ((long)Math.Ceiling(remaining.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static void RenderSet(StringBuilder sb, string name, string addressType, IEnumerable<GrantElement> elements)
    {
        sb.Append(CultureInfo.InvariantCulture, $"\tset {name} {{\n");
        sb.Append(CultureInfo.InvariantCulture, $"\t\ttype {addressType} . inet_proto . inet_service\n");
        sb.Append("\t\tflags interval,timeout\n");
        var items = elements.Select(WithTimeout).ToList();
        if (items.Count > 0)
        {
            sb.Append("\t\telements = {\n\t\t\t").Append(string.Join(",\n\t\t\t", items)).Append("\n\t\t}\n");
        }

        sb.Append("\t}\n");
    }

    private static string[] Protocols(string protocol) => protocol switch
    {
        "tcp" => ["tcp"],
        "udp" => ["udp"],
        _ => ["tcp", "udp"],
    };
}
