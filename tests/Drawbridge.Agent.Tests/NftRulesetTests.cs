using Drawbridge.Agent.Nftables;
using Drawbridge.Contracts;

namespace Drawbridge.Agent.Tests;

public class NftRulesetTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Cases => new(GoldenCases.All.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_MatchesGoldenFile(string name)
    {
        var state = GoldenCases.All[name];
        var rendered = NftRuleset.Render(state, NftRuleset.Elements(state, Now));
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", name + ".nft");

        // DRAWBRIDGE_UPDATE_GOLDEN=1 rewrites the files in the source tree after a deliberate change.
        if (Environment.GetEnvironmentVariable("DRAWBRIDGE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(GoldenCases.SourceDirectory(), name + ".nft"), rendered);
        }

        Assert.Equal(File.ReadAllText(path), rendered);
    }

    [Fact]
    public void Elements_NestedGrants_BecomeDisjointAndKeepEachEndTime()
    {
        var state = new DesiredState
        {
            Grants =
            [
                Grant("10.0.0.0/30", "tcp", 22, TimeSpan.FromMinutes(10)),
                Grant("10.0.0.1", "tcp", 22, TimeSpan.FromMinutes(60)),
            ],
        };

        var elements = NftRuleset.Elements(state, Now);
        Assert.Equal(
            ["10.0.0.0 . tcp . 22 = 600s", "10.0.0.1 . tcp . 22 = 3600s", "10.0.0.2/31 . tcp . 22 = 600s"],
            elements.Select(e => $"{e.Key} = {e.Remaining.TotalSeconds}s"));
    }

    [Fact]
    public void Elements_ContainedShorterGrant_IsDropped()
    {
        var state = new DesiredState { Grants = [Grant("10.0.0.0/8", "tcp", 22, TimeSpan.FromHours(1)), Grant("10.1.2.3", "tcp", 22, TimeSpan.FromMinutes(5))] };
        var element = Assert.Single(NftRuleset.Elements(state, Now));
        Assert.Equal("10.0.0.0/8", element.Source.ToString());
    }

    [Fact]
    public void Elements_AnyProtocol_OpensTcpAndUdp_AndEndedGrantsAreLeftOut()
    {
        var state = new DesiredState { Grants = [Grant("2001:db8::1", "*", 3389, TimeSpan.FromMinutes(1)), Grant("10.0.0.1", "tcp", 22, TimeSpan.FromSeconds(-1))] };
        Assert.Equal(["2001:db8::1 . tcp . 3389", "2001:db8::1 . udp . 3389"],
            NftRuleset.Elements(state, Now).Select(e => e.Key.ToString()));
    }

    [Fact]
    public void ElementChanges_DeleteWhatEndedAndChanged_AddWhatIsNewOrChanged_LeaveTheRest()
    {
        var kept = Grant("10.0.0.1", "tcp", 22, TimeSpan.FromMinutes(10));
        var before = new DesiredState { Grants = [kept, Grant("10.0.0.2", "tcp", 22, TimeSpan.FromMinutes(10)), Grant("2001:db8::1", "tcp", 22, TimeSpan.FromMinutes(5))] };
        var after = new DesiredState { Grants = [kept, Grant("10.0.0.3", "udp", 53, TimeSpan.FromMinutes(1)), Grant("2001:db8::1", "tcp", 22, TimeSpan.FromMinutes(30))] };

        Assert.Equal(
            "delete element inet drawbridge grants4 { 10.0.0.2 . tcp . 22 }\n"
            + "add element inet drawbridge grants4 { 10.0.0.3 . udp . 53 timeout 60000ms }\n"
            + "delete element inet drawbridge grants6 { 2001:db8::1 . tcp . 22 }\n"
            + "add element inet drawbridge grants6 { 2001:db8::1 . tcp . 22 timeout 1800000ms }\n",
            NftRuleset.ElementChanges(NftRuleset.Elements(before, Now), NftRuleset.Elements(after, Now)));
        Assert.Equal("", NftRuleset.ElementChanges(NftRuleset.Elements(before, Now), NftRuleset.Elements(before, Now)));
    }

    [Theory]
    [InlineData(1.0, "1ms")]
    [InlineData(1.2, "2ms")]
    [InlineData(3_600_000.0, "3600000ms")]
    public void Timeout_RoundsUp_SoAGrantNeverClosesEarly(double milliseconds, string expected) =>
        Assert.Equal(expected, NftRuleset.Timeout(TimeSpan.FromMilliseconds(milliseconds)));

    private static DesiredGrant Grant(string source, string protocol, int port, TimeSpan left) =>
        new() { Id = Guid.NewGuid().ToString(), Source = source, Protocol = protocol, Port = port, EndTimeUtc = Now + left };
}
