using System.Globalization;
using System.Text;
using Drawbridge.Contracts;
using Drawbridge.Net;

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
            var covered = new List<IpPrefix>();
            foreach (var item in group.OrderByDescending(x => x.Remaining).ThenBy(x => x.Source!.Value.Length))
            {
                IReadOnlyList<IpPrefix> pieces = [item.Source!.Value];
                foreach (var taken in covered)
                {
                    pieces = pieces.SelectMany(p => p.Except(taken)).ToList();
                }

                foreach (var piece in pieces)
                {
                    elements.Add(new GrantElement(piece, item.Protocol, item.Grant.Port, item.Remaining));
                    covered.Add(piece);
                }
            }
        }

        return elements
            .OrderBy(e => e.Source.IsIPv4 ? 0 : 1).ThenBy(e => e.Port).ThenBy(e => e.Protocol, StringComparer.Ordinal)
            .ThenBy(e => e.Source.ToString(), StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The whole table as one transaction: create-if-missing, delete, re-create with everything in it.</summary>
    public static string Render(IReadOnlyList<ProtectedPort> protectedPorts, IReadOnlyList<GrantElement> elements)
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
        sb.Append("\t\tip saddr . meta l4proto . th dport @grants4 accept\n");
        sb.Append("\t\tip6 saddr . meta l4proto . th dport @grants6 accept\n");
        foreach (var protocol in new[] { "tcp", "udp" })
        {
            var ports = protectedPorts.Where(p => Protocols(p.Protocol).Contains(protocol)).Select(p => p.Number).Distinct().Order().ToList();
            if (ports.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\t\tmeta l4proto {protocol} th dport {{ {string.Join(", ", ports)} }} drop comment \"jit-deny\"\n");
            }
        }

        sb.Append("\t}\n}\n");
        return sb.ToString();
    }

    /// <summary>Kernel timeouts in milliseconds, rounded up so a grant never closes before its end time.</summary>
    public static string Timeout(TimeSpan remaining) =>
        ((long)Math.Ceiling(remaining.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static void RenderSet(StringBuilder sb, string name, string addressType, IEnumerable<GrantElement> elements)
    {
        sb.Append(CultureInfo.InvariantCulture, $"\tset {name} {{\n");
        sb.Append(CultureInfo.InvariantCulture, $"\t\ttype {addressType} . inet_proto . inet_service\n");
        sb.Append("\t\tflags interval,timeout\n");
        var items = elements.Select(e => $"{e.Key} timeout {Timeout(e.Remaining)}").ToList();
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
