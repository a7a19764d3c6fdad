using Drawbridge.Jit;
using Drawbridge.Net;
using Drawbridge.Validation;
using Microsoft.Extensions.Time.Testing;

namespace Drawbridge.Core.Tests;

public class GrantEvaluatorTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private static readonly IpPrefix Caller = IpPrefix.Parse("203.0.113.7");

    private static readonly JitPortRule Ssh = new(22, PortProtocol.Tcp, [IpPrefix.Parse("203.0.113.0/24"), IpPrefix.Parse("2001:db8::/32")], TimeSpan.FromHours(3));
    private static readonly JitPortRule Rdp = new(3389, PortProtocol.Any, [], TimeSpan.FromHours(1));

    private static (PortAccessDecision? Decision, ValidationErrors Errors) Evaluate(PortAccessAsk ask)
    {
        var errors = new ValidationErrors();
        var decision = GrantEvaluator.Evaluate([Ssh, Rdp], ask, Caller, Time.GetUtcNow(), JitDuration.DefaultMinimum, "p", errors);
        return (decision, errors);
    }

    [Fact]
    public void Evaluate_NoSourceNoTime_GrantsCallerForThePortMaximum()
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(22, null, null, null, null));
        Assert.False(errors.Any);
        Assert.Equal("203.0.113.7", Assert.Single(decision!.Sources).ToString());
        Assert.Equal(Time.GetUtcNow().AddHours(3), decision.EndTimeUtc);
    }

    [Theory]
    [InlineData("1h", 3600)]
    [InlineData("PT90M", 5400)]
    [InlineData("PT3H", 10800)]
    public void Evaluate_DurationWithinMaximum_EndsThen(string duration, int seconds)
    {
        var (decision, _) = Evaluate(new PortAccessAsk(22, duration, null, null, null));
        Assert.Equal(Time.GetUtcNow().AddSeconds(seconds), decision!.EndTimeUtc);
    }

    [Fact]
    public void Evaluate_EndTimeSlightlyOverMaximum_IsClampedToMaximum()
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(22, null, Time.GetUtcNow().AddHours(3).AddSeconds(2), null, null));
        Assert.False(errors.Any);
        Assert.Equal(Time.GetUtcNow().AddHours(3), decision!.EndTimeUtc);
    }

    [Theory]
    [InlineData(22, "PT4H", null, "p.duration", "longer than port 22's maximum PT3H")]
    [InlineData(22, "PT1M", null, "p.duration", "shorter than the minimum PT5M")]
    [InlineData(22, "P100Y", null, "p.duration", "not a duration")]
    [InlineData(22, null, "203.0.114.7", "p.allowedSourceAddressPrefix", "outside port 22's allowed sources")]
    [InlineData(22, null, "203.0.0.0/16", "p.allowedSourceAddressPrefix", "outside port 22's allowed sources")]
    [InlineData(22, null, "*", "p.allowedSourceAddressPrefix", "'*' is not allowed")]
    [InlineData(22, null, "0.0.0.0/0", "p.allowedSourceAddressPrefix", "outside")]
    [InlineData(22, null, "banana", "p.allowedSourceAddressPrefix", "not a valid")]
    [InlineData(80, null, null, "p.number", "not enabled")]
    [InlineData(70000, null, null, "p.number", "1..65535")]
    [InlineData(null, null, null, "p.number", "is required")]
    public void Evaluate_OutOfPolicy_IsRefusedWithTheField(int? port, string? duration, string? source, string field, string message)
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(port, duration, null, source, null));
        Assert.Null(decision);
        var error = Assert.Single(errors.Items);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_EndTimeInThePast_IsRefused()
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(22, null, Time.GetUtcNow().AddMinutes(-1), null, null));
        Assert.Null(decision);
        Assert.Equal("p.endTimeUtc", errors.Items[0].Field);
    }

    [Fact]
    public void Evaluate_DurationAndEndTime_IsRefused()
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(22, "1h", Time.GetUtcNow().AddHours(1), null, null));
        Assert.Null(decision);
        Assert.Contains("not both", errors.Items[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("203.0.113.0/25")]
    [InlineData("203.0.113.200")]
    [InlineData("2001:db8:1::/48")]
    public void Evaluate_SourceInsideAllowedPrefix_IsSubsetMatch(string source)
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(22, "1h", null, source, null));
        Assert.False(errors.Any, errors.Any ? errors.Items[0].Message : "");
        Assert.Equal(source, Assert.Single(decision!.Sources).ToString());
    }

    [Fact]
    public void Evaluate_AnySourcePolicy_AllowsStarAsBothFamilies()
    {
        var (decision, errors) = Evaluate(new PortAccessAsk(3389, "30m", null, "*", null));
        Assert.False(errors.Any);
        Assert.Equal(["0.0.0.0/0", "::/0"], decision!.Sources.Select(s => s.ToString()));
    }

    [Fact]
    public void Evaluate_CallerOutsideAllowedPrefixes_IsRefused()
    {
        var errors = new ValidationErrors();
        var decision = GrantEvaluator.Evaluate([Ssh], new PortAccessAsk(22, null, null, null, null), IpPrefix.Parse("198.51.100.1"),
            Time.GetUtcNow(), JitDuration.DefaultMinimum, "p", errors);
        Assert.Null(decision);
        Assert.Contains("198.51.100.1 is outside", errors.Items[0].Message, StringComparison.Ordinal);
    }
}
