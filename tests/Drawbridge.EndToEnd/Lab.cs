using System.Diagnostics;
using System.Text.Json;
using Drawbridge.Contracts;

namespace Drawbridge.EndToEnd;

/// <summary>
/// The lab every end-to-end test runs in: scripts/lab.sh's namespaces, the real server in PREFIX-srv, a real agent
/// and a real sshd on each of four hosts, and the real CLI in PREFIX-client. Built once per test class, removed after.
/// </summary>
public sealed class Lab : IAsyncLifetime
{
    public const string ServerAddress = "198.18.0.2";
    public const string ClientAddress = "198.18.0.100";
    public const string OtherAddress = "198.18.0.101";
    public const int Hosts = 7;
    private const string OwnerToken = "dbt_e2e-owner-token-0123456789abcdefghijklmnop";

    private readonly Dictionary<string, LabProcess> _processes = new(StringComparer.Ordinal);

    private static int _labs;

    /// <summary>Unique per lab, so two test classes' labs never share a namespace name.</summary>
    public string Prefix { get; } = $"dbe{Environment.ProcessId % 100000}{Interlocked.Increment(ref _labs)}";
    public string Root { get; } = FindRoot();
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("drawbridge-e2e").FullName;
    /// <summary>Where ./test.sh publishes the programs (DRAWBRIDGE_ARTIFACTS, or artifacts/ in the checkout).</summary>
    public static string ArtifactsDirectory => Environment.GetEnvironmentVariable("DRAWBRIDGE_ARTIFACTS") is { Length: > 0 } a ? a : Path.Combine(FindRoot(), "artifacts");
    public static string Cli => Path.Combine(ArtifactsDirectory, "cli", "drawbridge");
    public static string Agent => Path.Combine(ArtifactsDirectory, "agent", "drawbridge-agent");
    public static string ServerDll => LocalServer.Dll;
    public string KeyFile => Path.Combine(Directory, "id_ed25519");
    public Dictionary<string, string> ClientEnvironment => new() { ["DRAWBRIDGE_CONFIG"] = Path.Combine(Directory, "client.json") };

    public static string HostAddress(int host) => $"198.18.0.{10 + host}";
    public static string HostAddress6(int host) => $"fd00:db::{10 + host}";
    public string Ns(string name) => $"{Prefix}-{name}";

    public async ValueTask InitializeAsync()
    {
        Requirements.CheckLab();
        Shell.Check(Path.Combine(Root, "scripts", "lab.sh"), "up", Prefix, Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        StartServer();
        await WaitForAsync(() => RunCli("login", "--server", $"http://{ServerAddress}:5080", "--token", OwnerToken).Exit == 0, TimeSpan.FromSeconds(60), "the server to answer");

        var token = RunCli("enroll-token", "create", "--uses", Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture)).Output.Trim();
        for (var i = 1; i <= Hosts; i++)
        {
            var name = $"h{i}";
            Shell.Check("ip", "netns", "exec", Ns(name), Agent, "enroll", "--server", $"http://{ServerAddress}:5080", "--token", token, "--name", name, "--state-dir", StateDirectory(name));
            StartAgent(name);
            Shell.Check(Path.Combine(Root, "scripts", "lab.sh"), "sshd", Prefix, name, Directory);
            var enable = RunCli("jit", "enable", name, "--port", "22/tcp", "--max-duration", "1h");
            Assert.True(enable.Exit == 0, enable.Error);
        }

        // Every host has applied the JIT deny: port 22 is closed to everyone.
        for (var i = 1; i <= Hosts; i++)
        {
            var host = HostAddress(i);
            await WaitForAsync(() => !CanConnect("client", host), TimeSpan.FromSeconds(15), $"port 22 on {host} to be closed");
        }
    }

    public string StateDirectory(string host) => Path.Combine(Directory, host);

    public void StartServer() => _processes["server"] = LabProcess.Start(Ns("srv"), Path.Combine(Directory, "server.log"), new Dictionary<string, string>
    {
        ["Drawbridge__DataDirectory"] = Path.Combine(Directory, "data"),
        ["Drawbridge__Bootstrap__OwnerToken"] = OwnerToken,
        ["Drawbridge__Jit__MinimumRequestDuration"] = "1s",
        ["Logging__LogLevel__Default"] = "Warning",
    }, "dotnet", ServerDll, "--urls", $"http://{ServerAddress}:5080");

    /// <summary>Starts the server again (after <see cref="Kill"/>) and waits until it answers.</summary>
    public async Task RestartServerAsync()
    {
        StartServer();
        await WaitForAsync(() => RunCli("vm", "list").Exit == 0, TimeSpan.FromSeconds(60), "the restarted server");
    }

    /// <summary>How often <paramref name="text"/> appears in the log of <paramref name="process"/> ("server" or a host).</summary>
    public int LogCount(string process, string text) => File.ReadAllText(Path.Combine(Directory, $"{process}.log")).Split(text).Length - 1;

    public void StartAgent(string host) => _processes[host] =
        LabProcess.Start(Ns(host), Path.Combine(Directory, $"{host}.log"), null, Agent, "run", "--state-dir", StateDirectory(host));

    public void Kill(string name) => _processes[name].Kill();

    public (int Exit, string Output, string Error) RunCli(params string[] arguments) => RunCliFrom("client", arguments);

    public (int Exit, string Output, string Error) RunCliFrom(string ns, params string[] arguments) =>
        Shell.Run("ip", new[] { "netns", "exec", Ns(ns), Cli }.Concat(arguments), ClientEnvironment);

    /// <summary>The CLI as Owner, with <paramref name="input"/> on its standard input (passwords).</summary>
    public void CheckCli(string input, params string[] arguments)
    {
        var (exit, output, error) = Shell.Run("ip", new[] { "netns", "exec", Ns("client"), Cli }.Concat(arguments), ClientEnvironment, input: input);
        Assert.True(exit == 0, $"drawbridge {string.Join(' ', arguments)} failed ({exit}): {error}{output}");
    }

    /// <summary>A real TCP connect from a lab namespace; a JIT deny drops the SYN, so a closed port times out.</summary>
    public bool CanConnect(string fromNs, string address, int port = 22)
    {
        // bash's /dev/tcp takes IPv6 addresses as they are: the host part ends at the last slash.
        var (exit, _, _) = Shell.Run("ip", ["netns", "exec", Ns(fromNs), "timeout", "0.3", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}"]);
        return exit == 0;
    }

    public JitNetworkAccessRequest RequestJson(params string[] arguments)
    {
        var (exit, output, error) = RunCli(["request", .. arguments, "-o", "json"]);
        Assert.True(exit == 0, $"drawbridge request failed ({exit}): {error}");
        return JsonSerializer.Deserialize(output, DrawbridgeJson.Wire.JitNetworkAccessRequest)!;
    }

    public static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>How long after <paramref name="instant"/> the condition first held, polling as fast as a probe allows.</summary>
    public static async Task<TimeSpan> TimeUntilAsync(Func<bool> condition, DateTimeOffset instant, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition())
            {
                return DateTimeOffset.UtcNow - instant;
            }

            await Task.Delay(20);
        }

        return TimeSpan.MaxValue;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            process.Dispose();
        }

        Shell.Run(Path.Combine(Root, "scripts", "lab.sh"), ["down", Prefix]);
        if (Environment.GetEnvironmentVariable("DRAWBRIDGE_KEEP_E2E") != "1")
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Drawbridge.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Drawbridge.slnx not found above the test binaries");
    }
}

/// <summary>Classes that build a lab run one after another: two labs at once on two cores would blur the timings they check.</summary>
[CollectionDefinition(Name)]
public sealed class LabCollection
{
    public const string Name = "lab";
}

internal static class Requirements
{
    /// <summary>Skips without root, nft, sshd or the published binaries, unless DRAWBRIDGE_REQUIRE_ROOT_TESTS=1 (test.sh as root, CI) makes that a failure.</summary>
    public static void CheckLab() => Require(
    [
        (Environment.UserName == "root", "root"),
        .. new[] { "/usr/sbin/nft", "/usr/sbin/sshd", Lab.Cli, Lab.Agent, Lab.ServerDll }.Select(f => (File.Exists(f), $"{f} (./test.sh publishes the binaries)")),
    ]);

    /// <summary>
    /// Skips the test when something it needs is missing, naming all of it; where DRAWBRIDGE_REQUIRE_ROOT_TESTS=1
    /// (test.sh as root, CI) nothing may be missing, and the test fails instead.
    /// </summary>
    public static void Require(params (bool Met, string What)[] needs)
    {
        var missing = needs.Where(n => !n.Met).Select(n => n.What).ToList();
        if (missing.Count > 0)
        {
            var why = $"missing: {string.Join(", ", missing)}";
            Assert.SkipWhen(Environment.GetEnvironmentVariable("DRAWBRIDGE_REQUIRE_ROOT_TESTS") != "1", why);
            Assert.Fail(why);
        }
    }
}
