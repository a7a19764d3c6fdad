using System.Net;
using Drawbridge.Net;

namespace Drawbridge.Posture;

/// <summary>
/// A set of addresses as sorted, disjoint, non-adjacent intervals per family. Union, intersection and difference are
/// linear merges, and ranges stay compact (the Internet is about fifteen intervals, where CIDR prefixes would need
/// over a hundred), which is what lets an assessment of a large fleet finish in seconds.
/// </summary>
public sealed class AddressSpace
{
    private readonly Interval[] _v4;
    private readonly Interval[] _v6;

    private AddressSpace(Interval[] v4, Interval[] v6)
    {
        _v4 = v4;
        _v6 = v6;
    }

    public static AddressSpace Empty { get; } = new([], []);

    public static AddressSpace All { get; } = new([new Interval(0, uint.MaxValue)], [new Interval(0, UInt128.MaxValue)]);

    /// <summary>
    /// What Azure's "Internet" service tag means for an assessment: every address that is not private, loopback,
    /// link-local, shared (CGNAT), multicast, unique-local, or Azure's own load balancer probe (168.63.129.16).
    /// </summary>
    public static AddressSpace Internet { get; } = All.Except(Of(
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
        "168.63.129.16", "::/8", "fc00::/7", "fe80::/10", "ff00::/8"));

    public bool IsEmpty => _v4.Length == 0 && _v6.Length == 0;

    /// <summary>Every IPv4 and every IPv6 address: a rule with this source needs no source match at all.</summary>
    public bool IsAll => All.Except(this).IsEmpty;

    /// <summary>The same set as the fewest CIDR prefixes.</summary>
    public IReadOnlyList<IpPrefix> Prefixes =>
        _v4.SelectMany(i => ToPrefixes(i, 32)).Concat(_v6.SelectMany(i => ToPrefixes(i, 128))).ToList();

    public static AddressSpace Of(params string[] prefixes) => Of(prefixes.Select(IpPrefix.Parse));

    public static AddressSpace Of(IEnumerable<IpPrefix> prefixes)
    {
        var v4 = new List<Interval>();
        var v6 = new List<Interval>();
        foreach (var prefix in prefixes)
        {
            (prefix.IsIPv4 ? v4 : v6).Add(FromPrefix(prefix));
        }

        return new(Normalize(v4), Normalize(v6));
    }

    public AddressSpace Union(AddressSpace other) =>
        new(Normalize([.. _v4, .. other._v4]), Normalize([.. _v6, .. other._v6]));

    public AddressSpace Intersect(AddressSpace other) => new(Intersect(_v4, other._v4), Intersect(_v6, other._v6));

    public AddressSpace Except(AddressSpace other) => new(Except(_v4, other._v4), Except(_v6, other._v6));

    public override string ToString() => IsEmpty ? "(none)" : string.Join(", ", Prefixes);

    private readonly record struct Interval(UInt128 Start, UInt128 End);

    private static Interval FromPrefix(IpPrefix prefix)
    {
        var bits = prefix.IsIPv4 ? 32 : 128;
        var start = ToNumber(prefix.Address);
        return new Interval(start, start + Mask(bits - prefix.Length));
    }

    /// <summary>Sorts and merges overlapping or adjacent intervals.</summary>
    private static Interval[] Normalize(List<Interval> intervals)
    {
        intervals.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<Interval>(intervals.Count);
        foreach (var interval in intervals)
        {
            if (merged.Count > 0 && (merged[^1].End == UInt128.MaxValue || interval.Start <= merged[^1].End + 1))
            {
                var last = merged[^1];
                merged[^1] = last with { End = UInt128.Max(last.End, interval.End) };
            }
            else
            {
                merged.Add(interval);
            }
        }

        return [.. merged];
    }

    private static Interval[] Intersect(Interval[] a, Interval[] b)
    {
        var result = new List<Interval>();
        for (int i = 0, j = 0; i < a.Length && j < b.Length;)
        {
            var start = UInt128.Max(a[i].Start, b[j].Start);
            var end = UInt128.Min(a[i].End, b[j].End);
            if (start <= end)
            {
                result.Add(new Interval(start, end));
            }

            if (a[i].End < b[j].End)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return [.. result];
    }

    private static Interval[] Except(Interval[] a, Interval[] b)
    {
        var result = new List<Interval>();
        var j = 0;
        foreach (var interval in a)
        {
            var start = interval.Start;
            var open = true;
            while (j < b.Length && b[j].End < start)
            {
                j++;
            }

            for (var k = j; k < b.Length && b[k].Start <= interval.End; k++)
            {
                if (b[k].Start > start)
                {
                    result.Add(new Interval(start, b[k].Start - 1));
                }

                if (b[k].End >= interval.End)
                {
                    open = false;
                    break;
                }

                start = b[k].End + 1;
            }

            if (open)
            {
                result.Add(new Interval(start, interval.End));
            }
        }

        return [.. result];
    }

    /// <summary>Splits an interval into the fewest aligned CIDR blocks, largest first from its start.</summary>
    private static IEnumerable<IpPrefix> ToPrefixes(Interval interval, int bits)
    {
        var start = interval.Start;
        while (true)
        {
            // Grow the block (2^k addresses) while it stays aligned at start and inside the interval.
            var k = 0;
            while (k < bits && (start & Mask(k + 1)) == 0 && Mask(k + 1) <= interval.End - start)
            {
                k++;
            }

            yield return IpPrefix.Parse($"{ToAddress(start, bits)}/{bits - k}");
            var blockEnd = start + Mask(k);
            if (blockEnd >= interval.End)
            {
                yield break;
            }

            start = blockEnd + 1;
        }
    }

    /// <summary>2^k - 1, for k up to 128.</summary>
    private static UInt128 Mask(int k) => k >= 128 ? UInt128.MaxValue : (UInt128.One << k) - 1;

    private static UInt128 ToNumber(IPAddress address)
    {
        UInt128 value = 0;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private static IPAddress ToAddress(UInt128 value, int bits)
    {
        var bytes = new byte[bits / 8];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xFF);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }
}
