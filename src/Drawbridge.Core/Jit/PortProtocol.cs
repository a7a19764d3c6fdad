namespace Drawbridge.Jit;

/// <summary>Transport protocol of a JIT port; Azure spells them "TCP", "UDP" and "*".</summary>
public enum PortProtocol
{
    Tcp,
    Udp,
    Any,
}

public static class PortProtocols
{
    public static bool TryParse(string? text, out PortProtocol protocol)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "TCP":
                protocol = PortProtocol.Tcp;
                return true;
            case "UDP":
                protocol = PortProtocol.Udp;
                return true;
            case "*" or "ANY":
                protocol = PortProtocol.Any;
                return true;
            default:
                protocol = default;
                return false;
        }
    }

    public static string ToAzure(this PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => "TCP",
        PortProtocol.Udp => "UDP",
        PortProtocol.Any => "*",
    };

    /// <summary>True when a grant for <paramref name="requested"/> is covered by a rule for <paramref name="allowed"/>.</summary>
    public static bool Covers(this PortProtocol allowed, PortProtocol requested) =>
        allowed == PortProtocol.Any || allowed == requested;
}
