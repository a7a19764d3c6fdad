using Drawbridge.Jit;

namespace Drawbridge.Core.Tests;

public class JitDurationTests
{
    [Theory]
    [InlineData("PT3H", 3 * 3600)]
    [InlineData("PT1H30M", 5400)]
    [InlineData("PT5M", 300)]
    [InlineData("P1D", 86400)]
    [InlineData("P1DT2H", 93600)]
    [InlineData("PT0.5S", 0.5)]
    [InlineData("pt2h", 7200)]
    [InlineData("1h", 3600)]
    [InlineData("90m", 5400)]
    [InlineData("1h30m", 5400)]
    [InlineData("45s", 45)]
    [InlineData("1d", 86400)]
    [InlineData(" 2H ", 7200)]
    public void TryParse_AcceptsIsoAndShortForms(string text, double seconds)
    {
        Assert.True(JitDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("P100Y")]
    [InlineData("P1M")]
    [InlineData("PT1H1H")]
    [InlineData("PT30M1H")]
    [InlineData("PT1.5H")]
    [InlineData("-1h")]
    [InlineData("1x")]
    [InlineData("h")]
    [InlineData("30m1h")]
    [InlineData("1h ago")]
    [InlineData("PT99999999999H")]
    [InlineData("9999999h")]
    public void TryParse_RejectsMalformedOrUnbounded(string text) =>
        Assert.False(JitDuration.TryParse(text, out _));

    [Theory]
    [InlineData(3 * 3600, "PT3H", "3h")]
    [InlineData(5400, "PT1H30M", "1h30m")]
    [InlineData(86400, "P1D", "1d")]
    [InlineData(93784, "P1DT2H3M4S", "1d2h3m4s")]
    [InlineData(1.5, "PT1.5S", "1s")]
    [InlineData(0, "PT0S", "0s")]
    public void Format_RoundTrips(double seconds, string iso, string shortForm)
    {
        var duration = TimeSpan.FromSeconds(seconds);
        Assert.Equal(iso, JitDuration.ToIso(duration));
        Assert.Equal(shortForm, JitDuration.ToShort(duration));
        Assert.True(JitDuration.TryParse(iso, out var back));
        Assert.Equal(duration, back);
    }
}
