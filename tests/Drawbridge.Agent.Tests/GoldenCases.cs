using System.Runtime.CompilerServices;
using Drawbridge.Contracts;

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
    };

    public static string SourceDirectory([CallerFilePath] string file = "") => Path.Combine(Path.GetDirectoryName(file)!, "Golden");

    private static ProtectedPort Port(int number, string protocol) => new() { Number = number, Protocol = protocol };

    private static DesiredGrant Grant(string source, string protocol, int port, TimeSpan left) =>
        new() { Id = "g", Source = source, Protocol = protocol, Port = port, EndTimeUtc = Now + left };
}
