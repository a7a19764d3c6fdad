using BenchmarkDotNet.Attributes;
using Drawbridge.Agent.Nftables;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Net;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Micro;

/// <summary>Deciding one port of an initiate request against a machine's policy: the server's per-request work.</summary>
[MemoryDiagnoser]
public class PolicyEvaluation
{
    private readonly List<JitPortRule> _rules = [];
    private readonly IpPrefix _observed = IpPrefix.Parse("198.51.100.7");
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private readonly PortAccessAsk _ask = new(22, "PT1H", null, "198.51.100.0/28", null);

    [GlobalSetup]
    public void Setup()
    {
        var errors = new ValidationErrors();
        foreach (var port in new[] { 22, 3389, 5985, 5986 })
        {
            _rules.Add(JitPortRule.TryCreate(port, "*", null, ["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"], "PT3H", TimeSpan.FromMinutes(5), "p", errors)!);
        }
    }

    [Benchmark]
    public PortAccessDecision? Evaluate() =>
        GrantEvaluator.Evaluate(_rules, _ask, _observed, _now, TimeSpan.FromMinutes(5), "p", new ValidationErrors());
}

/// <summary>Parsing and matching source prefixes, as every initiate and every grant element does.</summary>
[MemoryDiagnoser]
public class PrefixMatching
{
    private readonly IpPrefix _network = IpPrefix.Parse("2001:db8::/32");
    private readonly IpPrefix _inside = IpPrefix.Parse("2001:db8:1234::/48");

    private readonly string _networkText = "198.51.100.0/24";
    private readonly string _addressText = "198.51.100.7";
    private readonly AddressSpace _ruleSources = AddressSpace.Of("203.0.113.0/24", "10.0.0.0/8");

    [Benchmark]
    public bool ParseAndContainV4() => IpPrefix.Parse(_networkText).Contains(IpPrefix.Parse(_addressText));

    [Benchmark]
    public bool ContainV6() => _network.Contains(_inside);

    [Benchmark]
    public bool InternetOverlapsRule() => !AddressSpace.Internet.Intersect(_ruleSources).IsEmpty;
}

/// <summary>Compiling a whole host state into its nft script: what the agent does on every apply.</summary>
[MemoryDiagnoser]
public class RulesetCompilation
{
    private DesiredState _state = new();
    private DateTimeOffset _now;

    /// <summary>Live grants on the host.</summary>
    [Params(1, 100, 1000)]
    public int Grants { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        var errors = new ValidationErrors();
        var rules = Enumerable.Range(0, 50).Select(i => NsgRule.TryCreate($"r{i}", 100 + (i * 10), "Inbound", i % 3 == 0 ? "Deny" : "Allow", i % 2 == 0 ? "Tcp" : "*",
            [i % 4 == 0 ? "Internet" : $"10.{i}.0.0/16"], [(1000 + (i * 7)).ToString(System.Globalization.CultureInfo.InvariantCulture)], "r", errors)!).ToList();
        _state = new DesiredState
        {
            ServerTimeUtc = _now,
            ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }, new ProtectedPort { Number = 3389, Protocol = "*" }],
            Grants = Enumerable.Range(0, Grants).Select(i => new DesiredGrant
            {
                Id = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Source = $"198.{18 + (i / 65536)}.{i / 256 % 256}.{i % 256}",
                Protocol = "tcp",
                Port = 22,
                EndTimeUtc = _now.AddMinutes(30 + i),
            }).ToList(),
            SecurityGroups = [HostRules.Resolve(new NetworkSecurityGroup("web-nsg", rules))],
        };
    }

    [Benchmark]
    public int Render() => NftRuleset.Render(_state, NftRuleset.Elements(_state, _now)).Length;
}
