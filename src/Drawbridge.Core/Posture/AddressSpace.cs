using Drawbridge.Net;

namespace Drawbridge.Posture;

/// <summary>
/// A set of addresses as disjoint CIDR prefixes. CIDR prefixes are always nested or disjoint, so union, difference and
/// intersection stay exact without ever enumerating addresses.
/// </summary>
public sealed class AddressSpace
{
    private readonly List<IpPrefix> _prefixes;

    private AddressSpace(List<IpPrefix> prefixes) => _prefixes = prefixes;

    public static AddressSpace Empty => new([]);

    public static AddressSpace All => new([IpPrefix.AnyIPv4, IpPrefix.AnyIPv6]);

    /// <summary>
    /// What Azure's "Internet" service tag means for an assessment: every address that is not private, loopback,
    /// link-local, shared (CGNAT), multicast, unique-local, or Azure's own load balancer probe (168.63.129.16).
    /// </summary>
    public static AddressSpace Internet { get; } = All.Except(Of(
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
        "168.63.129.16", "::/8", "fc00::/7", "fe80::/10", "ff00::/8"));

    public bool IsEmpty => _prefixes.Count == 0;

    public IReadOnlyList<IpPrefix> Prefixes => _prefixes;

    public static AddressSpace Of(params string[] prefixes) => Of(prefixes.Select(IpPrefix.Parse));

    public static AddressSpace Of(IEnumerable<IpPrefix> prefixes)
    {
        var space = Empty;
        foreach (var prefix in prefixes)
        {
            space = space.Union(prefix);
        }

        return space;
    }

    public AddressSpace Union(IpPrefix prefix) =>
        _prefixes.Any(p => p.Contains(prefix)) ? this : new([.. _prefixes.Where(p => !prefix.Contains(p)), prefix]);

    public AddressSpace Union(AddressSpace other) => Of(_prefixes.Concat(other._prefixes));

    public AddressSpace Except(AddressSpace other)
    {
        var pieces = _prefixes;
        foreach (var hole in other._prefixes)
        {
            pieces = pieces.SelectMany(p => p.Except(hole)).ToList();
        }

        return new(pieces);
    }

    public AddressSpace Intersect(AddressSpace other)
    {
        var result = new List<IpPrefix>();
        foreach (var a in _prefixes)
        {
            foreach (var b in other._prefixes)
            {
                if (a.Contains(b))
                {
                    result.Add(b);
                }
                else if (b.Contains(a))
                {
                    result.Add(a);
                }
            }
        }

        return Of(result);
    }

    public override string ToString() => IsEmpty ? "(none)" : string.Join(", ", _prefixes);
}
