using Drawbridge.Net;

namespace Drawbridge.Core.Tests;

public class IpPrefixTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("10.0.0.5", "10.0.0.5")]
    [InlineData("10.0.0.5/32", "10.0.0.5")]
    [InlineData(" 192.168.1.0/24 ", "192.168.1.0/24")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:DB8::1", "2001:db8::1")]
    [InlineData("::/0", "::/0")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    public void TryParse_ValidInput_Normalizes(string input, string expected)
    {
        Assert.True(IpPrefix.TryParse(input, out var prefix, out var error), error);
        Assert.Equal(expected, prefix.Value.ToString());
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("10.0.0.0/33", "prefix length")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.5/8", "host bits")]
    [InlineData("10.0.0", "not a valid")]
    [InlineData("10", "not a valid")]
    [InlineData("300.1.1.1", "not a valid")]
    [InlineData("fe80::1%eth0", "not a valid")]
    [InlineData("2001:db8::1/129", "prefix length")]
    [InlineData("hello", "not a valid")]
    [InlineData("10.0.0.0/8/8", "prefix length")]
    public void TryParse_InvalidInput_SaysWhy(string input, string reason)
    {
        Assert.False(IpPrefix.TryParse(input, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "10.1.0.0/16", true)]
    [InlineData("10.0.0.0/8", "10.0.0.0/8", true)]
    [InlineData("10.1.0.0/16", "10.0.0.0/8", false)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData("2001:db8::/32", "2001:db8:1::/48", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    public void Contains_IsSubsetMatchWithinOneFamily(string outer, string inner, bool expected) =>
        Assert.Equal(expected, IpPrefix.Parse(outer).Contains(IpPrefix.Parse(inner)));

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8", "")]
    [InlineData("10.0.0.0/8", "11.0.0.0/8", "10.0.0.0/8")]
    [InlineData("10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9")]
    [InlineData("10.0.0.0/30", "10.0.0.1", "10.0.0.0,10.0.0.2/31")]
    [InlineData("10.0.0.5", "10.0.0.0/8", "")]
    [InlineData("2001:db8::/126", "2001:db8::2", "2001:db8::3,2001:db8::/127")]
    public void Except_LeavesDisjointRemainder(string whole, string hole, string expected)
    {
        var pieces = IpPrefix.Parse(whole).Except(IpPrefix.Parse(hole));
        Assert.Equal(expected, string.Join(",", pieces));
        var holePrefix = IpPrefix.Parse(hole);
        Assert.All(pieces, p => Assert.False(p.Contains(holePrefix) || holePrefix.Contains(p)));
    }
}
