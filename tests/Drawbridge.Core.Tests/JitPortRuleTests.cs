using Drawbridge.Jit;
using Drawbridge.Validation;

namespace Drawbridge.Core.Tests;

public class JitPortRuleTests
{
    private static readonly TimeSpan Minimum = JitDuration.DefaultMinimum;

    [Fact]
    public void TryCreate_Defaults_AreAzureDefaults()
    {
        var errors = new ValidationErrors();
        var rule = JitPortRule.TryCreate(22, null, null, null, null, Minimum, "p", errors);
        Assert.False(errors.Any);
        Assert.NotNull(rule);
        Assert.Equal(PortProtocol.Any, rule.Protocol);
        Assert.True(rule.AnySource);
        Assert.Equal(TimeSpan.FromHours(3), rule.MaxRequestAccessDuration);
    }

    [Theory]
    [InlineData(null, "TCP", "*", "PT3H", "p.number", "is required")]
    [InlineData(0, "TCP", "*", "PT3H", "p.number", "1..65535")]
    [InlineData(65536, "TCP", "*", "PT3H", "p.number", "1..65535")]
    [InlineData(-22, "TCP", "*", "PT3H", "p.number", "1..65535")]
    [InlineData(22, "ICMP", "*", "PT3H", "p.protocol", "not a protocol")]
    [InlineData(22, "TCP", "10.0.0.0/33", "PT3H", "p.allowedSourceAddressPrefix", "prefix length")]
    [InlineData(22, "TCP", "not-an-ip", "PT3H", "p.allowedSourceAddressPrefix", "not a valid")]
    [InlineData(22, "TCP", "*", "PT4M", "p.maxRequestAccessDuration", "outside PT5M..P1D")]
    [InlineData(22, "TCP", "*", "P2D", "p.maxRequestAccessDuration", "outside PT5M..P1D")]
    [InlineData(22, "TCP", "*", "P100Y", "p.maxRequestAccessDuration", "not a duration")]
    public void TryCreate_BadField_NamesTheField(int? number, string protocol, string prefix, string max, string field, string message)
    {
        var errors = new ValidationErrors();
        Assert.Null(JitPortRule.TryCreate(number, protocol, prefix, null, max, Minimum, "p", errors));
        var error = Assert.Single(errors.Items);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCreate_PrefixList_ParsesEachAndReportsEachBadOne()
    {
        var errors = new ValidationErrors();
        Assert.Null(JitPortRule.TryCreate(22, "TCP", null, ["10.0.0.0/8", "bad", "*"], "PT1H", Minimum, "p", errors));
        Assert.Equal(["p.allowedSourceAddressPrefixes[1]", "p.allowedSourceAddressPrefixes[2]"], errors.Items.Select(e => e.Field));
    }

    [Fact]
    public void TryCreate_BothPrefixSpellings_IsAnError()
    {
        var errors = new ValidationErrors();
        Assert.Null(JitPortRule.TryCreate(22, "TCP", "10.0.0.0/8", ["10.0.0.0/8"], "PT1H", Minimum, "p", errors));
        Assert.Contains("not both", errors.Items[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCreate_TooManyPrefixes_IsAnError()
    {
        var errors = new ValidationErrors();
        var many = Enumerable.Range(0, JitPortRule.MaxPrefixesPerPort + 1).Select(i => $"10.0.{i}.0/24").ToList();
        Assert.Null(JitPortRule.TryCreate(22, "TCP", null, many, "PT1H", Minimum, "p", errors));
        Assert.True(errors.Any);
    }

    [Fact]
    public void TryCreate_MinimumFromSettings_AllowsSecondsInLabs()
    {
        var errors = new ValidationErrors();
        var rule = JitPortRule.TryCreate(22, "tcp", "*", null, "30s", TimeSpan.FromSeconds(1), "p", errors);
        Assert.Equal(TimeSpan.FromSeconds(30), rule?.MaxRequestAccessDuration);
    }
}
