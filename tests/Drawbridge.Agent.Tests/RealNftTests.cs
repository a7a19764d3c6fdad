using System.Diagnostics;
using Drawbridge.Agent.Nftables;
using Drawbridge.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drawbridge.Agent.Tests;

/// <summary>
/// The golden rulesets and the firewall's drift detection against the real nft binary, in a network namespace
/// this test creates and removes. Needs root; skipped elsewhere unless DRAWBRIDGE_REQUIRE_ROOT_TESTS=1 makes it fail.
/// </summary>
public sealed class RealNftTests : IDisposable
{
    private readonly string _namespace = $"dbr-agt-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-agent-test").FullName;

    public RealNftTests()
    {
        RootTests.RequireRoot();
        Run("ip", $"netns add {_namespace}");
    }

    public static TheoryData<string> Cases => new(GoldenCases.All.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void GoldenRuleset_IsAcceptedByTheKernel(string name)
    {
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", name + ".nft"));
        Run("ip", $"netns exec {_namespace} nft -f -", script);
        var listed = Run("ip", $"netns exec {_namespace} nft list table inet drawbridge");
        Assert.Contains("chain input", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Firewall_AppliesThenDetectsEveryKindOfDrift()
    {
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var state = new DesiredState
        {
            Version = 7,
            ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }],
            Grants = [new DesiredGrant { Id = "a", Source = "198.18.0.100", Protocol = "tcp", Port = 22, EndTimeUtc = now.AddMinutes(5) }],
        };
        var bootFile = Path.Combine(_directory, "boot.nft");
        var firewall = new NftablesFirewall(new NftCommand("ip", $"netns exec {_namespace} nft"), bootFile, NullLogger.Instance);

        await firewall.ApplyAsync(state, now, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Null(await firewall.FindDriftAsync(state, now, ct));
        Assert.Contains("meta l4proto tcp th dport { 22 } drop", File.ReadAllText(bootFile), StringComparison.Ordinal);
        Assert.DoesNotContain("198.18.0.100", File.ReadAllText(bootFile), StringComparison.Ordinal);

        Run("ip", $"netns exec {_namespace} nft delete element inet drawbridge grants4 {{ 198.18.0.100 . tcp . 22 }}");
        Assert.Contains("missing", await firewall.FindDriftAsync(state, now, ct), StringComparison.Ordinal);

        await firewall.ApplyAsync(state, now, ct);
        Run("ip", $"netns exec {_namespace} nft add element inet drawbridge grants4 {{ 198.18.0.99 . tcp . 22 }}");
        Assert.Contains("unexpected grant element 198.18.0.99", await firewall.FindDriftAsync(state, now, ct), StringComparison.Ordinal);

        await firewall.ApplyAsync(state, now, ct);
        Run("ip", $"netns exec {_namespace} nft insert rule inet drawbridge input accept");
        Assert.Contains("changed", await firewall.FindDriftAsync(state, now, ct), StringComparison.Ordinal);

        Run("ip", $"netns exec {_namespace} nft flush ruleset");
        Assert.Contains("missing", await firewall.FindDriftAsync(state, now, ct), StringComparison.Ordinal);

        // The boot file alone brings the deny back.
        Run("ip", $"netns exec {_namespace} nft -f {bootFile}");
        Assert.Contains("tcp dport 22 drop", Run("ip", $"netns exec {_namespace} nft list table inet drawbridge"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Firewall_AWholeTableTransactionThatReachesTheKernelLate_DoesNotLetAGrantOutliveItsEnd()
    {
        // The kernel starts an element's countdown when the transaction reaches it; here the whole-table transaction
        // arrives 400 ms after its timeouts were computed, as under load. Without the restart the element would end
        // about 400 ms after the grant.
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var end = now.AddSeconds(30);
        var state = new DesiredState
        {
            Version = 1,
            ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }],
            Grants = [new DesiredGrant { Id = "a", Source = "198.18.0.100", Protocol = "tcp", Port = 22, EndTimeUtc = end }],
        };
        var nft = new NftCommand("ip", $"netns exec {_namespace} nft");
        var late = new BeforeTransaction(nft, (n, ct) => n == 1 ? Task.Delay(400, ct) : Task.CompletedTask);
        var firewall = new NftablesFirewall(late, Path.Combine(_directory, "boot.nft"), NullLogger.Instance);

        await firewall.ApplyAsync(state, now, ct);
        var left = end - DateTimeOffset.UtcNow;
        var expires = KernelExpiry(Run("ip", $"netns exec {_namespace} nft list set inet drawbridge grants4"));

        // Listed after "left" was taken, so the kernel's remaining time can only be shorter; 50 ms allows for the
        // restart's own run (a forked nft here) and the kernel's 4 ms clock ticks.
        Assert.InRange(expires - left, TimeSpan.FromMilliseconds(-500), TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Firewall_ACountdownRestartThatFails_LeavesTheStateAppliedAndShowsAsDrift()
    {
        // Someone deletes one grant element between the whole-table transaction and the restart, so the restart's
        // delete fails. The new state is enforced all the same: the apply must not fail (the agent would keep the old
        // state as current and "repair" the new grants away); the drift check sees the missing element instead.
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var state = new DesiredState
        {
            Version = 1,
            ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }],
            Grants =
            [
                new DesiredGrant { Id = "a", Source = "198.18.0.100", Protocol = "tcp", Port = 22, EndTimeUtc = now.AddMinutes(5) },
                new DesiredGrant { Id = "b", Source = "198.18.0.101", Protocol = "tcp", Port = 22, EndTimeUtc = now.AddMinutes(5) },
            ],
        };
        var nft = new NftCommand("ip", $"netns exec {_namespace} nft");
        var meddled = false;
        var meddler = new BeforeTransaction(nft, (n, _) =>
        {
            if (n == 2)
            {
                Run("ip", $"netns exec {_namespace} nft delete element inet drawbridge grants4 {{ 198.18.0.100 . tcp . 22 }}");
                meddled = true;
            }

            return Task.CompletedTask;
        });
        var firewall = new NftablesFirewall(meddler, Path.Combine(_directory, "boot.nft"), NullLogger.Instance);

        await firewall.ApplyAsync(state, now, ct);

        Assert.True(meddled);
        Assert.Contains("198.18.0.101", Run("ip", $"netns exec {_namespace} nft list set inet drawbridge grants4"), StringComparison.Ordinal);
        Assert.Contains("grant element 198.18.0.100 . tcp . 22 is missing", await firewall.FindDriftAsync(state, now, ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Firewall_WhenOnlyGrantsChange_AppliesElementChangesAlone()
    {
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var first = GrantsOn22(now, ("198.18.0.100", 5));
        var nft = new BeforeTransaction(new NftCommand("ip", $"netns exec {_namespace} nft"));
        var firewall = new NftablesFirewall(nft, Path.Combine(_directory, "boot.nft"), NullLogger.Instance);
        await firewall.ApplyAsync(first, now, ct);
        var wholeTable = nft.Scripts.Count;

        // A new grant and a renewal, then a revoke: each one small transaction on the grant set, and the countdown
        // restart of just what it added; nothing else.
        await firewall.ApplyAsync(GrantsOn22(now, ("198.18.0.100", 5), ("198.18.0.101", 10)), now, ct);
        await firewall.ApplyAsync(GrantsOn22(now, ("198.18.0.100", 30), ("198.18.0.101", 10)), now, ct);
        var renewed = KernelExpiry(Run("ip", $"netns exec {_namespace} nft list set inet drawbridge grants4"), "198.18.0.100 ");
        var last = GrantsOn22(now, ("198.18.0.100", 30));
        await firewall.ApplyAsync(last, now, ct);

        const string Delete100 = "delete element inet drawbridge grants4 { 198.18.0.100 . tcp . 22 }\n";
        const string Delete101 = "delete element inet drawbridge grants4 { 198.18.0.101 . tcp . 22 }\n";
        const string Add100 = "add element inet drawbridge grants4 { 198.18.0.100 . tcp . 22 timeout ";
        const string Add101 = "add element inet drawbridge grants4 { 198.18.0.101 . tcp . 22 timeout ";
        Assert.Equal(
            [Add101, Delete101 + Add101, Delete100 + Add100, Delete100 + Add100, Delete101],
            nft.Scripts.Skip(wholeTable).Select(script => script.Contains("timeout", StringComparison.Ordinal) ? script[..(script.LastIndexOf("timeout", StringComparison.Ordinal) + 8)] : script));
        Assert.InRange(renewed, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
        var set = Run("ip", $"netns exec {_namespace} nft list set inet drawbridge grants4");
        Assert.Contains("198.18.0.100", set, StringComparison.Ordinal);
        Assert.DoesNotContain("198.18.0.101", set, StringComparison.Ordinal);
        Assert.Null(await firewall.FindDriftAsync(last, now, ct));
    }

    [Fact]
    public async Task Firewall_ElementChangesThatFindTheKernelChanged_ReplaceTheWholeTable()
    {
        // The element to revoke is already gone (deleted by hand, before any drift check saw it): the small
        // transaction fails and changes nothing, and the whole table is replaced instead.
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var nft = new BeforeTransaction(new NftCommand("ip", $"netns exec {_namespace} nft"));
        var firewall = new NftablesFirewall(nft, Path.Combine(_directory, "boot.nft"), NullLogger.Instance);
        await firewall.ApplyAsync(GrantsOn22(now, ("198.18.0.100", 5)), now, ct);
        Run("ip", $"netns exec {_namespace} nft delete element inet drawbridge grants4 {{ 198.18.0.100 . tcp . 22 }}");
        var applied = nft.Scripts.Count;

        var next = GrantsOn22(now, ("198.18.0.101", 5));
        await firewall.ApplyAsync(next, now, ct);

        Assert.StartsWith("delete element", nft.Scripts[applied], StringComparison.Ordinal);
        Assert.Contains("chain input", nft.Scripts[applied + 1], StringComparison.Ordinal);
        Assert.Contains("198.18.0.101", Run("ip", $"netns exec {_namespace} nft list set inet drawbridge grants4"), StringComparison.Ordinal);
        Assert.Null(await firewall.FindDriftAsync(next, now, ct));
    }

    private static DesiredState GrantsOn22(DateTimeOffset now, params (string Source, int Minutes)[] grants) => new()
    {
        Version = 1,
        ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }],
        Grants = [.. grants.Select(g => new DesiredGrant { Id = g.Source, Source = g.Source, Protocol = "tcp", Port = 22, EndTimeUtc = now.AddMinutes(g.Minutes) })],
    };

    [Fact]
    public async Task Firewall_ReportsOtherInputChainsThatDrop()
    {
        var ct = TestContext.Current.CancellationToken;
        var firewall = new NftablesFirewall(new NftCommand("ip", $"netns exec {_namespace} nft"), Path.Combine(_directory, "boot.nft"), NullLogger.Instance);
        await firewall.ApplyAsync(new DesiredState { ProtectedPorts = [new ProtectedPort { Number = 22, Protocol = "tcp" }] }, DateTimeOffset.UtcNow, ct);
        Assert.Empty(await firewall.OtherInputFiltersAsync(ct));

        // What iptables-nft or a distribution's firewall leaves behind: a dropping policy, and a reject rule.
        Run("ip", $"netns exec {_namespace} nft -f -", """
            table ip filter { chain INPUT { type filter hook input priority 0; policy drop; }; }
            table inet fw { chain in { type filter hook input priority -20; tcp dport 3389 reject; }; chain out { type filter hook output priority 0; policy drop; }; }
            """);
        Assert.Equal(
            ["table inet fw chain in at priority -20 (1 drop or reject rule(s))", "table ip filter chain INPUT at priority 0 (policy drop)"],
            (await firewall.OtherInputFiltersAsync(ct)).Order(StringComparer.Ordinal));
    }

    /// <summary>When the kernel ends the set's first element, or the one whose listing starts with <paramref name="element"/>.</summary>
    private static TimeSpan KernelExpiry(string listing, string element = "")
    {
        var match = System.Text.RegularExpressions.Regex.Match(listing, System.Text.RegularExpressions.Regex.Escape(element) + @"[^,}]*?expires ((?:\d+(?:ms|d|h|m|s))+)");
        Assert.True(match.Success, listing);
        var total = TimeSpan.Zero;
        foreach (System.Text.RegularExpressions.Match part in System.Text.RegularExpressions.Regex.Matches(match.Groups[1].Value, @"(\d+)(ms|d|h|m|s)"))
        {
            var n = int.Parse(part.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }

        return total;
    }

    /// <summary>Real nftables, with something done before each transaction (given its number, from 1), or nothing.</summary>
    private sealed class BeforeTransaction(INftables inner, Func<int, CancellationToken, Task> before) : INftables
    {
        public BeforeTransaction(INftables inner)
            : this(inner, (_, _) => Task.CompletedTask)
        {
        }

        /// <summary>Every script handed to nftables, in order, whether it was accepted or not.</summary>
        public List<string> Scripts { get; } = [];

        public async Task ApplyAsync(string script, CancellationToken ct)
        {
            Scripts.Add(script);
            await before(Scripts.Count, ct);
            await inner.ApplyAsync(script, ct);
        }

        public Task<string> ListTableJsonAsync(string family, string table, CancellationToken ct) => inner.ListTableJsonAsync(family, table, ct);

        public Task<string> ListRulesetJsonAsync(CancellationToken ct) => inner.ListRulesetJsonAsync(ct);
    }

    public void Dispose()
    {
        Run("ip", $"netns del {_namespace}", check: false);
        Directory.Delete(_directory, recursive: true);
    }

    private static string Run(string file, string arguments, string? input = null, bool check = true)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(10_000), $"{file} {arguments} did not finish");
        if (check)
        {
            Assert.True(process.ExitCode == 0, $"{file} {arguments} failed: {error}");
        }

        return output;
    }
}

internal static class RootTests
{
    public static void RequireRoot()
    {
        var ready = Environment.UserName == "root" && File.Exists("/usr/sbin/nft") && (File.Exists("/usr/sbin/ip") || File.Exists("/usr/bin/ip"));
        if (!ready)
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("DRAWBRIDGE_REQUIRE_ROOT_TESTS") != "1", "needs root, nft and ip");
            Assert.Fail("DRAWBRIDGE_REQUIRE_ROOT_TESTS=1 but this is not root with nft and ip");
        }
    }
}
