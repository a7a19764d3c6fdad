using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Drawbridge.Net;

/// <summary>
/// An IPv4 or IPv6 network in CIDR form. A bare address is a single-host prefix (/32 or /128).
/// Parsing is strict: host bits must be zero, so "10.0.0.5/8" is an error rather than a silent
/// widening of what the caller typed.
/// </summary>
public readonly record struct IpPrefix
{
    private readonly IPNetwork _network;

    private IpPrefix(IPNetwork network) => _network = network;

    public IPAddress Address => _network.BaseAddress;
    public int Length => _network.PrefixLength;
    public AddressFamily Family => _network.BaseAddress.AddressFamily;
    public bool IsIPv4 => Family == AddressFamily.InterNetwork;
    public bool IsSingleHost => Length == (IsIPv4 ? 32 : 128);

    public static IpPrefix AnyIPv4 { get; } = new(new IPNetwork(IPAddress.Any, 0));
    public static IpPrefix AnyIPv6 { get; } = new(new IPNetwork(IPAddress.IPv6Any, 0));

    public static IpPrefix FromAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return new(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out IpPrefix? prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "an address or CIDR prefix is required";
            return false;
        }

        if (text.Length > 64)
        {
            error = "is too long to be an address or CIDR prefix";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            error = $"'{text}' is not a valid IPv4 or IPv6 address or CIDR prefix";
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var maxLength = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = maxLength;
        if (slash >= 0)
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit)
                || !int.TryParse(lengthText, System.Globalization.CultureInfo.InvariantCulture, out length) || length > maxLength)
            {
                error = $"'{text}' has an invalid prefix length (0..{maxLength})";
                return false;
            }
        }

        var network = new IPNetwork(Mask(address, length), length);
        if (!network.BaseAddress.Equals(address))
        {
            error = $"'{text}' has host bits set; did you mean {network}?";
            return false;
        }

        prefix = new IpPrefix(network);
        error = null;
        return true;
    }

    public static IpPrefix Parse(string text) =>
        TryParse(text, out var prefix, out var error) ? prefix.Value : throw new FormatException(error);

    /// <summary>True when every address of <paramref name="other"/> lies inside this prefix.</summary>
    public bool Contains(IpPrefix other) =>
        Family == other.Family && Length <= other.Length && _network.Contains(other.Address);

    public bool Contains(IPAddress address) => Contains(FromAddress(address));

    /// <summary>
    /// The addresses of this prefix that are not in <paramref name="hole"/>, as disjoint prefixes: the sibling at
    /// each level between the two lengths. CIDR prefixes are either nested or disjoint, so this is exact.
    /// </summary>
    public IReadOnlyList<IpPrefix> Except(IpPrefix hole)
    {
        if (!Contains(hole))
        {
            return Family == hole.Family && hole.Contains(this) ? [] : [this];
        }

        var pieces = new List<IpPrefix>(hole.Length - Length);
        var bytes = hole.Address.GetAddressBytes();
        for (var length = hole.Length; length > Length; length--)
        {
            // Flip the last bit of the hole's prefix at this length: that is the sibling half not containing the hole.
            var sibling = (byte[])bytes.Clone();
            var bit = length - 1;
            sibling[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            pieces.Add(new IpPrefix(new IPNetwork(Mask(new IPAddress(sibling), length), length)));
        }

        return pieces;
    }

    public override string ToString() => IsSingleHost ? Address.ToString() : _network.ToString();

    private static IPAddress Mask(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bitsInByte = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsInByte));
        }

        return new IPAddress(bytes);
    }
}
