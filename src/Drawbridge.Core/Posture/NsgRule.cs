using System.Globalization;
using Drawbridge.Jit;
using Drawbridge.Net;
using Drawbridge.Validation;

namespace Drawbridge.Posture;

public enum RuleDirection
{
    Inbound,
    Outbound,
}

public enum RuleAccess
{
    Allow,
    Deny,
}

/// <summary>An inclusive port range; "*" is 0-65535.</summary>
public readonly record struct PortRange(int From, int To)
{
    public bool Contains(int port) => port >= From && port <= To;

    public override string ToString() => From == To ? From.ToString(CultureInfo.InvariantCulture) : From == 0 && To == 65535 ? "*" : $"{From}-{To}";

    /// <summary>
    /// The same ports without <paramref name="removed"/>, as few ranges as possible: how a rule that bypasses JIT is
    /// narrowed to everything it allowed except the JIT-protected ports. Empty when nothing is left.
    /// </summary>
    public static List<PortRange> Except(IEnumerable<PortRange> ranges, IEnumerable<int> removed)
    {
        var cut = removed.Distinct().Order().ToList();
        var result = new List<PortRange>();
        foreach (var range in Merge(ranges))
        {
            var from = range.From;
            foreach (var port in cut.Where(range.Contains))
            {
                if (port > from)
                {
                    result.Add(new PortRange(from, port - 1));
                }

                from = port + 1;
            }

            if (from <= range.To)
            {
                result.Add(new PortRange(from, range.To));
            }
        }

        return result;
    }

    /// <summary>Sorted, with overlapping and adjacent ranges joined (nftables refuses overlapping set elements).</summary>
    public static List<PortRange> Merge(IEnumerable<PortRange> ranges)
    {
        var merged = new List<PortRange>();
        foreach (var range in ranges.OrderBy(r => r.From))
        {
            if (merged.Count > 0 && range.From <= merged[^1].To + 1)
            {
                merged[^1] = merged[^1] with { To = Math.Max(merged[^1].To, range.To) };
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged;
    }

    public static bool TryParse(string? text, out PortRange range)
    {
        range = default;
        text = text?.Trim();
        if (text == "*")
        {
            range = new PortRange(0, 65535);
            return true;
        }

        var parts = text?.Split('-') ?? [];
        if (parts.Length is < 1 or > 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
            || from > to || to > 65535)
        {
            return false;
        }

        range = new PortRange(from, to);
        return true;
    }
}

/// <summary>
/// One security rule of a network security group (Microsoft.Network/networkSecurityGroups/securityRules shape).
/// Sources are CIDR prefixes or the service tags "*", "Internet", "VirtualNetwork" and "AzureLoadBalancer".
/// </summary>
public sealed class NsgRule(
    string name, int priority, RuleDirection direction, RuleAccess access, PortProtocol protocol,
    IReadOnlyList<string> sources, IReadOnlyList<PortRange> destinationPorts)
{
    public const int MinPriority = 100;
    public const int MaxPriority = 4096;

    private static readonly AddressSpace VirtualNetwork = AddressSpace.Of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7");
    private static readonly AddressSpace AzureLoadBalancer = AddressSpace.Of("168.63.129.16");

    public string Name { get; } = name;
    public int Priority { get; } = priority;
    public RuleDirection Direction { get; } = direction;
    public RuleAccess Access { get; } = access;
    public PortProtocol Protocol { get; } = protocol;
    public IReadOnlyList<string> Sources { get; } = sources;
    public IReadOnlyList<PortRange> DestinationPorts { get; } = destinationPorts;

    /// <summary>The addresses this rule's sources stand for, computed once. "VirtualNetwork" is the private ranges; it never includes the Internet.</summary>
    public AddressSpace SourceSpace { get; } = sources.Select(Expand).Aggregate(AddressSpace.Empty, (all, one) => all.Union(one));

    public bool Covers(PortProtocol protocol, int port)
    {
        if (!Protocol.Covers(protocol))
        {
            return false;
        }

        // A loop, not Any(lambda): this runs for every rule, port and transport of a fleet assessment.
        foreach (var range in _ports)
        {
            if (range.Contains(port))
            {
                return true;
            }
        }

        return false;
    }

    private readonly PortRange[] _ports = [.. destinationPorts];

    /// <summary>Azure's default inbound rules, below every user rule.</summary>
    public static IReadOnlyList<NsgRule> DefaultInbound { get; } =
    [
        new("AllowVnetInBound", 65000, RuleDirection.Inbound, RuleAccess.Allow, PortProtocol.Any, ["VirtualNetwork"], [new PortRange(0, 65535)]),
        new("AllowAzureLoadBalancerInBound", 65001, RuleDirection.Inbound, RuleAccess.Allow, PortProtocol.Any, ["AzureLoadBalancer"], [new PortRange(0, 65535)]),
        new("DenyAllInBound", 65500, RuleDirection.Inbound, RuleAccess.Deny, PortProtocol.Any, ["*"], [new PortRange(0, 65535)]),
    ];

    /// <summary>Validates the raw fields of a rule; every problem is reported under <paramref name="path"/>.</summary>
    public static NsgRule? TryCreate(
        string? name, int? priority, string? direction, string? access, string? protocol,
        IReadOnlyList<string>? sources, IReadOnlyList<string>? ports, string path, ValidationErrors errors)
    {
        var before = errors.Items.Count;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 80)
        {
            errors.Add($"{path}.name", "a name of 1..80 characters is required");
        }

        if (priority is not (>= MinPriority and <= MaxPriority))
        {
            errors.Add($"{path}.properties.priority", $"{priority?.ToString(CultureInfo.InvariantCulture) ?? "missing"} is outside {MinPriority}..{MaxPriority}");
        }

        if (!Enum.TryParse<RuleDirection>(direction, ignoreCase: true, out var parsedDirection))
        {
            errors.Add($"{path}.properties.direction", $"'{direction}' is not Inbound or Outbound");
        }

        if (!Enum.TryParse<RuleAccess>(access, ignoreCase: true, out var parsedAccess))
        {
            errors.Add($"{path}.properties.access", $"'{access}' is not Allow or Deny");
        }

        if (!PortProtocols.TryParse(protocol, out var parsedProtocol))
        {
            errors.Add($"{path}.properties.protocol", $"'{protocol}' is not Tcp, Udp or *");
        }

        if (sources is null || sources.Count == 0)
        {
            errors.Add($"{path}.properties.sourceAddressPrefixes", "at least one source is required");
        }
        else
        {
            for (var i = 0; i < sources.Count; i++)
            {
                if (!IsServiceTag(sources[i]) && !IpPrefix.TryParse(sources[i], out _, out var error))
                {
                    errors.Add($"{path}.properties.sourceAddressPrefixes[{i}]", error);
                }
            }
        }

        var ranges = new List<PortRange>();
        if (ports is null || ports.Count == 0)
        {
            errors.Add($"{path}.properties.destinationPortRanges", "at least one port or range is required");
        }
        else
        {
            for (var i = 0; i < ports.Count; i++)
            {
                if (PortRange.TryParse(ports[i], out var range))
                {
                    ranges.Add(range);
                }
                else
                {
                    errors.Add($"{path}.properties.destinationPortRanges[{i}]", $"'{ports[i]}' is not a port, a range like 1000-2000, or *");
                }
            }
        }

        return errors.Items.Count > before
            ? null
            : new NsgRule(name!, priority!.Value, parsedDirection, parsedAccess, parsedProtocol, sources!.Select(s => s.Trim()).ToList(), ranges);
    }

    private static bool IsServiceTag(string? source) => source?.Trim() is "*" or "Internet" or "VirtualNetwork" or "AzureLoadBalancer" or "Any";

    private static AddressSpace Expand(string source) => source switch
    {
        "*" or "Any" => AddressSpace.All,
        "Internet" => AddressSpace.Internet,
        "VirtualNetwork" => VirtualNetwork,
        "AzureLoadBalancer" => AzureLoadBalancer,
        _ => AddressSpace.Of(source),
    };
}
