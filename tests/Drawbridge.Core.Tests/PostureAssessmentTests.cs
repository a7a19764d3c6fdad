using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Core.Tests;

public class PostureAssessmentTests
{
    /// <summary>A rule written the way people write them: "300 Allow Tcp Internet 22".</summary>
    private static NsgRule Rule(string spec, string name = "r")
    {
        var p = spec.Split(' ');
        var errors = new ValidationErrors();
        var rule = NsgRule.TryCreate(name, int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), "Inbound", p[1], p[2], p[3].Split(','), p[4].Split(','), "r", errors);
        Assert.False(errors.Any, errors.Any ? errors.Items[0].Message : "");
        return rule!;
    }

    private static NetworkSecurityGroup Nsg(params string[] rules) => new("nsg", rules.Select((r, i) => Rule(r, $"rule{i}")).ToList());

    private static NetworkSecurityGroup Aws(string name, params string[] rules) =>
        new(name, rules.Select((r, i) => Rule(r, $"{name}-rule{i}")).ToList(), NsgKind.AwsSecurityGroup);

    public static TheoryData<string[], int, string, bool> Evaluations => new()
    {
        // rules, port, protocol, exposed from the Internet?
        { [], 22, "Tcp", false },                                                               // defaults deny the Internet
        { ["300 Allow Tcp Internet 22"], 22, "Tcp", true },
        { ["300 Allow Tcp * 22"], 22, "Tcp", true },
        { ["300 Allow * 0.0.0.0/0 22"], 22, "Udp", true },
        { ["300 Allow Tcp Internet 22"], 22, "Udp", false },                                    // protocol must match
        { ["300 Allow Tcp Internet 22"], 3389, "Tcp", false },
        { ["300 Allow Tcp Internet 1000-4000"], 3389, "Tcp", true },                             // ranges
        { ["300 Allow Tcp Internet *"], 5986, "Tcp", true },
        { ["300 Allow Tcp Internet 20-30,25-3390"], 3389, "Tcp", true },                      // overlapping ranges in one rule
        { ["200 Deny Tcp * 3000-4000", "300 Allow Tcp Internet 3389-3390"], 3389, "Tcp", false }, // a wider deny range shadows
        { ["200 Deny Tcp * 3000-3388", "300 Allow Tcp Internet 3389-3390"], 3389, "Tcp", true },  // an adjacent one does not
        { ["200 Deny Tcp * 22", "300 Allow Tcp Internet 22"], 22, "Tcp", false },               // shadowed by a higher-priority deny
        { ["300 Allow Tcp Internet 22", "200 Deny Tcp * 22"], 22, "Tcp", false },               // priority, not order, decides
        { ["200 Deny Tcp 203.0.113.0/24 22", "300 Allow Tcp * 22"], 22, "Tcp", true },          // a partial deny leaves the rest open
        { ["300 Allow Tcp 10.0.0.0/8 22"], 22, "Tcp", false },                                  // private sources are not the Internet
        { ["300 Allow Tcp VirtualNetwork 22"], 22, "Tcp", false },
        { ["300 Allow Tcp AzureLoadBalancer 22"], 22, "Tcp", false },
        { ["300 Allow Tcp 198.51.100.7 22"], 22, "Tcp", true },                                 // one public address is exposure
        { ["300 Allow Tcp 2001:db8::/32 22"], 22, "Tcp", true },                                // IPv6
        { ["300 Allow Tcp fd00::/8 22"], 22, "Tcp", false },                                    // unique-local IPv6
        { ["200 Deny Tcp ::/0 22", "300 Allow Tcp * 22"], 22, "Tcp", true },                    // IPv4 still open
        { ["200 Deny Tcp ::/0,0.0.0.0/0 22", "300 Allow Tcp * 22"], 22, "Tcp", false },
    };

    [Theory]
    [MemberData(nameof(Evaluations))]
    public void AllowedFrom_FirstMatchByPriority(string[] rules, int port, string protocol, bool exposed)
    {
        Assert.True(PortProtocols.TryParse(protocol, out var parsed));
        var (allowed, _) = PostureAssessment.AllowedFrom(Nsg(rules), AddressSpace.Internet, parsed, port);
        Assert.Equal(exposed, !allowed.IsEmpty);
    }

    [Fact]
    public void Exposures_SubnetAndNicNsgs_MustBothAllow()
    {
        var subnet = Nsg("300 Allow Tcp Internet 22");
        var nicDenies = Nsg("300 Deny Tcp * 22");
        var nicNarrow = Nsg("300 Allow Tcp 198.51.100.0/24 22");
        Assert.Empty(PostureAssessment.Exposures([subnet, nicDenies]));
        var exposure = Assert.Single(PostureAssessment.Exposures([subnet, nicNarrow]));
        Assert.Equal("198.51.100.0/24", exposure.Sources.ToString());
    }

    [Fact]
    public void Exposures_AwsSecurityGroups_AnyOneAllowingIsEnough()
    {
        var closed = Aws("sg-closed", "100 Allow Tcp 10.0.0.0/8 22");
        var open = Aws("sg-open", "100 Allow Tcp 0.0.0.0/0 22");
        Assert.Empty(PostureAssessment.Exposures([closed]));
        var exposure = Assert.Single(PostureAssessment.Exposures([closed, open]));
        Assert.Equal("security group sg-open rule sg-open-rule0 allows 22/tcp from Internet", exposure.Describe());
    }

    [Fact]
    public void Exposures_AwsSecurityGroup_HasNoAzureDefaults()
    {
        // Azure's AllowAzureLoadBalancerInBound and AllowVnetInBound do not exist in AWS; nothing is allowed by default.
        var (allowed, _) = PostureAssessment.AllowedFrom(Aws("sg"), AddressSpace.All, PortProtocol.Tcp, 22);
        Assert.True(allowed.IsEmpty);
        var (azureAllowed, rule) = PostureAssessment.AllowedFrom(Nsg(), AddressSpace.All, PortProtocol.Tcp, 22);
        Assert.Equal("AllowVnetInBound", rule?.Name);
        Assert.False(azureAllowed.IsEmpty);
    }

    public static TheoryData<string[], bool, int, string, string, string?> EffectiveCases => new()
    {
        // rules (none: no group), JIT on the port?, port, protocol, allowed sources, deciding rule
        { [], false, 22, "Tcp", "0.0.0.0/0, ::/0", null },                                   // nothing restricts the host
        { [], true, 22, "Tcp", "(none)", null },                                             // the JIT deny alone
        { ["300 Allow Tcp 198.51.100.0/24 22"], true, 22, "Tcp", "198.51.100.0/24", "rule0" }, // above the JIT deny: a bypass for that network
        { ["300 Allow Tcp 198.51.100.0/24 22"], false, 22, "Tcp",                            // without JIT, Azure's defaults add the private ranges
            "10.0.0.0/8, 100.64.0.0/10, 168.63.129.16, 172.16.0.0/12, 192.168.0.0/16, 198.51.100.0/24, fc00::/7", "rule0" },
        { ["300 Allow Tcp 198.51.100.0/24 22"], false, 22, "Udp", "10.0.0.0/8, 100.64.0.0/10, 168.63.129.16, 172.16.0.0/12, 192.168.0.0/16, fc00::/7", "AllowVnetInBound" },
        { ["200 Deny * * 3389", "300 Allow Tcp * 3389"], false, 3389, "Tcp", "(none)", null },  // shadowed by a higher-priority deny
        { ["200 Deny Tcp ::/0 22", "300 Allow Tcp * 22"], true, 22, "Tcp", "0.0.0.0/0", "rule1" }, // IPv6 denied, IPv4 open past JIT
        { ["300 Allow Tcp * 1000-2000"], true, 22, "Tcp", "(none)", null },                   // the allow does not cover 22
    };

    [Theory]
    [MemberData(nameof(EffectiveCases))]
    public void Effective_FollowsTheHostsEvaluationOrder(string[] rules, bool jit, int port, string protocol, string allowed, string? rule)
    {
        Assert.True(PortProtocols.TryParse(protocol, out var parsed));
        var input = new PostureInput(jit ? new HashSet<int> { port } : null, rules.Length == 0 ? [] : [Nsg(rules)], HasEnforcer: true);
        var effective = PostureAssessment.Effective(input, parsed, port);
        Assert.Equal((allowed, rule, jit), (effective.Allowed.ToString(), effective.Rule?.Name, effective.JitProtected));
    }

    [Fact]
    public void Assess_JitEnabledAndNoBypass_IsHealthy()
    {
        var result = PostureAssessment.Assess(new PostureInput(new HashSet<int> { 22, 3389 }, [Nsg()], HasEnforcer: true));
        Assert.Equal(PostureState.Healthy, result.State);
        Assert.Contains("22, 3389", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Assess_JitEnabledButNsgAllowsProtectedPort_IsUnhealthyBypass()
    {
        var nsg = new NetworkSecurityGroup("web-nsg", [Rule("300 Allow Tcp Internet 22", "AllowSSH")]);
        var result = PostureAssessment.Assess(new PostureInput(new HashSet<int> { 22 }, [nsg], HasEnforcer: true));
        Assert.Equal(PostureState.Unhealthy, result.State);
        Assert.Equal("JIT is bypassed: NSG web-nsg rule AllowSSH (priority 300) allows 22/tcp from Internet, above the JIT deny; remove or narrow that rule", result.Reason);
    }

    [Fact]
    public void Assess_JitEnabled_OpenUnprotectedPortIsNotABypass()
    {
        var nsg = new NetworkSecurityGroup("web-nsg", [Rule("300 Allow Tcp Internet 5985", "AllowWinRM")]);
        Assert.Equal(PostureState.Healthy, PostureAssessment.Assess(new PostureInput(new HashSet<int> { 22 }, [nsg], HasEnforcer: true)).State);
    }

    [Fact]
    public void Assess_NsgAllowsManagementPort_IsUnhealthyWithTheRule()
    {
        var nsg = new NetworkSecurityGroup("web-nsg", [Rule("300 Allow Tcp Internet 22", "AllowSSH"), Rule("400 Allow Tcp Internet 443", "AllowHttps")]);
        var result = PostureAssessment.Assess(new PostureInput(null, [nsg], HasEnforcer: false));
        Assert.Equal((PostureState.Unhealthy, "NSG web-nsg rule AllowSSH (priority 300) allows 22/tcp from Internet"), (result.State, result.Reason));
    }

    [Fact]
    public void Assess_NsgWithoutManagementExposure_IsHealthy() =>
        Assert.Equal(PostureState.Healthy, PostureAssessment.Assess(new PostureInput(null, [Nsg("300 Allow Tcp Internet 443")], HasEnforcer: false)).State);

    [Theory]
    [InlineData(false, PostureState.NotApplicable)]
    [InlineData(true, PostureState.Unhealthy)]
    public void Assess_NoNsgNoJit_DependsOnWhetherAnythingCanEnforce(bool hasEnforcer, PostureState expected) =>
        Assert.Equal(expected, PostureAssessment.Assess(new PostureInput(null, [], hasEnforcer)).State);

    public static TheoryData<PostureInput, PostureState, string> Classifications => new()
    {
        // Every branch of the classification, with the host facts an agent reports.
        { new(new HashSet<int> { 22 }, [], true, new HostFacts(new HashSet<int> { 22 }, [])), PostureState.Healthy,
            "Just-in-time network access control protects port(s) 22" },
        { new(new HashSet<int> { 22 }, [], true, new HostFacts(new HashSet<int>(), ["table ip filter chain INPUT (policy drop)"])), PostureState.Healthy,
            "Just-in-time network access control protects port(s) 22 (another nftables table also filters input and may drop traffic: table ip filter chain INPUT (policy drop))" },
        { new(null, [], true, new HostFacts(new HashSet<int> { 22, 5986 }, [])), PostureState.Unhealthy,
            "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy (the host listens on 22, 5986)" },
        { new(null, [], true, new HostFacts(new HashSet<int> { 80 }, [])), PostureState.Unhealthy,
            "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy (nothing listens on a management port on the host right now)" },
        { new(null, [], true), PostureState.Unhealthy, "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy" },
        { new(null, [], false), PostureState.NotApplicable, "No JIT policy, network security group or firewall can enforce access to this machine" },
        { new(null, [], false, JitUnavailable: "imported from Azure"), PostureState.NotApplicable, "imported from Azure" },
        { new(null, [Nsg("300 Allow Tcp * 3389")], false, JitUnavailable: "imported from Azure; JIT needs an agent"), PostureState.Unhealthy,
            "NSG nsg rule rule0 (priority 300) allows 3389/tcp from Internet; narrow or remove that rule (imported from Azure; JIT needs an agent)" },
        { new(null, [Nsg("300 Deny Tcp * 3389")], false, JitUnavailable: "imported from Azure"), PostureState.Healthy,
            "No rule allows inbound traffic from the Internet to ports 22, 3389, 5985 or 5986" },
    };

    [Theory]
    [MemberData(nameof(Classifications))]
    public void Assess_ClassifiesEveryBranchWithItsReason(PostureInput input, PostureState state, string reason)
    {
        var result = PostureAssessment.Assess(input);
        Assert.Equal((state, reason), (result.State, result.Reason));
    }

    [Theory]
    [InlineData(new[] { "*" }, new[] { 22, 3389 }, "0-21, 23-3388, 3390-65535")]
    [InlineData(new[] { "22" }, new[] { 22 }, "")]
    [InlineData(new[] { "20-30", "25-40", "443" }, new[] { 22, 5985 }, "20-21, 23-40, 443")]
    [InlineData(new[] { "0-22" }, new[] { 0, 22 }, "1-21")]
    [InlineData(new[] { "443" }, new[] { 22 }, "443")]
    public void PortRange_Except_NarrowsToTheRest(string[] ranges, int[] removed, string expected)
    {
        var parsed = ranges.Select(r => PortRange.TryParse(r, out var range) ? range : throw new ArgumentException(r)).ToList();
        Assert.Equal(expected, string.Join(", ", PortRange.Except(parsed, removed)));
    }

    [Theory]
    [InlineData(99, "Inbound", "Allow", "Tcp", "*", "22", "r.properties.priority")]
    [InlineData(4097, "Inbound", "Allow", "Tcp", "*", "22", "r.properties.priority")]
    [InlineData(300, "Sideways", "Allow", "Tcp", "*", "22", "r.properties.direction")]
    [InlineData(300, "Inbound", "Maybe", "Tcp", "*", "22", "r.properties.access")]
    [InlineData(300, "Inbound", "Allow", "Icmpv9", "*", "22", "r.properties.protocol")]
    [InlineData(300, "Inbound", "Allow", "Tcp", "10.0.0.0/33", "22", "r.properties.sourceAddressPrefixes[0]")]
    [InlineData(300, "Inbound", "Allow", "Tcp", "*", "2000-1000", "r.properties.destinationPortRanges[0]")]
    [InlineData(300, "Inbound", "Allow", "Tcp", "*", "70000", "r.properties.destinationPortRanges[0]")]
    public void TryCreate_BadField_NamesIt(int priority, string direction, string access, string protocol, string source, string port, string field)
    {
        var errors = new ValidationErrors();
        Assert.Null(NsgRule.TryCreate("r", priority, direction, access, protocol, [source], [port], "r", errors));
        Assert.Equal(field, Assert.Single(errors.Items).Field);
    }

    [Fact]
    public void AddressSpace_SetOperations_AreExact()
    {
        var a = AddressSpace.Of("10.0.0.0/8", "192.0.2.0/24");
        Assert.Equal("10.128.0.0/9, 192.0.2.0/24", a.Except(AddressSpace.Of("10.0.0.0/9")).ToString());
        Assert.Equal("10.1.0.0/16", a.Intersect(AddressSpace.Of("10.1.0.0/16", "11.0.0.0/8")).ToString());
        Assert.Equal("10.0.0.0/8", AddressSpace.Of("10.1.0.0/16").Union(AddressSpace.Of("10.0.0.0/8")).ToString());
        Assert.True(AddressSpace.Internet.Intersect(AddressSpace.Of("10.0.0.0/8", "fd00::/8", "127.0.0.1", "168.63.129.16")).IsEmpty);
        Assert.False(AddressSpace.Internet.Intersect(AddressSpace.Of("8.8.8.8", "2001:db8::1")).IsEmpty);
    }

    [Theory]
    [InlineData(new[] { "0.0.0.0/0", "::/0" }, "0.0.0.0/0, ::/0")]
    [InlineData(new[] { "10.0.0.0/9", "10.128.0.0/9" }, "10.0.0.0/8")]
    [InlineData(new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3" }, "10.0.0.1, 10.0.0.2/31")]
    [InlineData(new[] { "2001:db8::/33", "2001:db8:8000::/33" }, "2001:db8::/32")]
    public void AddressSpace_Prefixes_AreTheFewestCidrBlocks(string[] prefixes, string expected) =>
        Assert.Equal(expected, AddressSpace.Of(prefixes).ToString());
}
