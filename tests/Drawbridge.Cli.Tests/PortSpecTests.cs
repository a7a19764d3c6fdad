using Drawbridge.Cli.Api;
using Drawbridge.Cli.Commands;

namespace Drawbridge.Cli.Tests;

public class PortSpecTests
{
    [Theory]
    [InlineData("22", 22, "*")]
    [InlineData("22/tcp", 22, "TCP")]
    [InlineData("53/UDP", 53, "UDP")]
    [InlineData("3389/*", 3389, "*")]
    [InlineData("65535", 65535, "*")]
    public void ParsePort_AcceptsNumberAndProtocol(string spec, int number, string protocol) =>
        Assert.Equal((number, protocol), JitCommands.ParsePort(spec));

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("ssh")]
    [InlineData("22/icmp")]
    [InlineData("22/tcp/x")]
    [InlineData(" 22")]
    public void ParsePort_RejectsWithOneLine(string spec)
    {
        var error = Assert.Throws<CliException>(() => JitCommands.ParsePort(spec));
        Assert.Contains(spec, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ParseRules_Defaults_AreDefenderForCloudsManagementPorts()
    {
        var rules = JitCommands.ParseRules([], "3h", []);
        Assert.Equal([22, 3389, 5985, 5986], rules.Select(r => r.Number!.Value));
        Assert.All(rules, r => Assert.Equal(("*", "*", "PT3H"), (r.Protocol, r.AllowedSourceAddressPrefix, r.MaxRequestAccessDuration)));
    }

    [Fact]
    public void ParseRules_Sources_OneIsAPrefixSeveralAreAList()
    {
        Assert.Equal("10.0.0.0/8", JitCommands.ParseRules(["22"], "1h", ["10.0.0.0/8"])[0].AllowedSourceAddressPrefix);
        var many = JitCommands.ParseRules(["22"], "90m", ["10.0.0.0/8", "fd00::/8"])[0];
        Assert.Null(many.AllowedSourceAddressPrefix);
        Assert.Equal(["10.0.0.0/8", "fd00::/8"], many.AllowedSourceAddressPrefixes!);
        Assert.Equal("PT1H30M", many.MaxRequestAccessDuration);
    }

    [Fact]
    public void ParseRules_BadDuration_IsOneClearLine() =>
        Assert.Contains("--max-duration 'soon'", Assert.Throws<CliException>(() => JitCommands.ParseRules([], "soon", [])).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("subscriptions/s/x", "2020-01-01", "subscriptions/s/x?api-version=2020-01-01")]
    [InlineData("/subscriptions/s/x?active=true", "2020-01-01", "subscriptions/s/x?active=true&api-version=2020-01-01")]
    public void WithVersion_AppendsApiVersion(string path, string version, string expected) =>
        Assert.Equal(expected, DrawbridgeApi.WithVersion(path, version));
}
