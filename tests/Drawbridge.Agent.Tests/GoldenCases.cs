using System.Runtime.CompilerServices;
using Drawbridge.Contracts;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Agent.Tests;

/// <summary>Representative desired states whose rendered rulesets are pinned in Golden/*.nft.</summary>
internal static class GoldenCases
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public static readonly Dictionary<string, DesiredState> All = new(StringComparer.Ordinal)
    {
        ["empty"] = new DesiredState(),
        ["management-ports-closed"] = new DesiredState
        {
            ProtectedPorts = [Port(22, "*"), Port(3389, "*"), Port(5985, "tcp"), Port(5986, "tcp")],
        },
        ["grants-v4-v6"] = new DesiredState
        {
            ProtectedPorts = [Port(22, "tcp"), Port(3389, "*"), Port(53, "udp")],
            Grants =
            [
                Grant("198.51.100.7", "tcp", 22, TimeSpan.FromMinutes(90)),
                Grant("203.0.113.0/24", "tcp", 22, TimeSpan.FromMinutes(5)),
                Grant("2001:db8::/64", "*", 3389, TimeSpan.FromHours(3)),
                Grant("192.0.2.1", "udp", 53, TimeSpan.FromMilliseconds(1500)),
            ],
        },
        ["overlapping-grants"] = new DesiredState
        {
            ProtectedPorts = [Port(22, "tcp")],
            Grants =
            [
                Grant("10.0.0.0/29", "tcp", 22, TimeSpan.FromMinutes(10)),
                Grant("10.0.0.4", "tcp", 22, TimeSpan.FromMinutes(30)),
                Grant("10.0.0.4", "tcp", 22, TimeSpan.FromMinutes(20)),
            ],
        },
        ["nsg-with-jit"] = new DesiredState
        {
            // A web server's group: HTTPS from the Internet, a blocked network, SSH from an office (above the JIT deny,
            // so it bypasses JIT for that office), a UDP range, RDP from an IPv6 network; Azure's defaults last.
            ProtectedPorts = [Port(22, "tcp"), Port(3389, "*")],
            Grants = [Grant("192.0.2.10", "tcp", 22, TimeSpan.FromMinutes(30))],
            SecurityGroups =
            [
                Nsg("web-nsg",
                    "300 Allow Tcp Internet 443 AllowHttps",
                    "200 Deny * 203.0.113.0/24 * DenyBadNet",
                    "400 Allow Tcp 198.51.100.0/24 22 AllowSshFromOffice",
                    "500 Allow Udp * 1000-2000,1500-2500,3000 AllowGameUdp",
                    "600 Allow * 2001:db8::/32 3389 AllowRdpV6"),
            ],
        },
        ["nsg-subnet-and-nic"] = new DesiredState
        {
            // Traffic passes the subnet's group, then the NIC's: both must allow. No JIT on this machine.
            SecurityGroups =
            [
                Nsg("subnet-nsg", "100 Allow Tcp * 22,80,443 AllowCommon"),
                Nsg("nic-nsg", "100 Deny Tcp Internet 22 DenySshFromInternet", "110 Allow Tcp * * AllowAllTcp"),
            ],
        },
    };

    /// <summary>A group from rules written as "PRIORITY ACCESS PROTOCOL SOURCES PORTS NAME", resolved as the server resolves it.</summary>
    private static DesiredSecurityGroup Nsg(string name, params string[] rules)
    {
        var errors = new ValidationErrors();
        var parsed = rules.Select(r => r.Split(' ')).Select(p => NsgRule.TryCreate(
            p[5], int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), "Inbound", p[1], p[2], p[3].Split(','), p[4].Split(','), "rule", errors)!).ToList();
        return errors.Any ? throw new ArgumentException(errors.Items[0].Message) : HostRules.Resolve(new NetworkSecurityGroup(name, parsed));
    }

    public static string SourceDirectory([CallerFilePath] string file = "") => Path.Combine(Path.GetDirectoryName(file)!, "Golden");

    private static ProtectedPort Port(int number, string protocol) => new() { Number = number, Protocol = protocol };

    private static DesiredGrant Grant(string source, string protocol, int port, TimeSpan left) =>
        new() { Id = "g", Source = source, Protocol = protocol, Port = port, EndTimeUtc = Now + left };
}
