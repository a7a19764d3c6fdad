using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Drawbridge.Bench;

/// <summary>
/// Fan-out: N simulated agents (no firewall, just the agent protocol) enroll, then long-poll one server as real agents
/// do (the report of the state applied rides the next poll). Once every one of them waits in a poll, network security groups covering
/// all machines (at most 1,000 machines per group, so N/1,000 groups) get a new rule, sent back to back; measured is
/// the time from the first change to each agent receiving its new state, and the server's memory. Bounded: every poll
/// and report times out, and the change must reach everyone within 60 s.
/// </summary>
internal static class FanoutBench
{
    private const int GroupSize = 1000;
    private static readonly TimeSpan ReachLimit = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(HttpClient owner, string subscription, Uri server, int agents, int warmups, int serverPid)
    {
        var credentials = await BenchApi.EnrollAsync(owner, "f", agents);
        var groups = (agents + GroupSize - 1) / GroupSize;
        await ChangeGroupsAsync(owner, subscription, agents, groups, port: 443);

        // One connection per agent, as a fleet has. One HttpClient shared by all made a pool that any agent's next
        // request could find busy, so it opened more: 13,580 connections for 10,000 agents.
        using var stop = new CancellationTokenSource();
        var endpoint = new IPEndPoint((await Dns.GetHostAddressesAsync(server.Host))[0], server.Port);
        var fleet = credentials.Select(c => new SimulatedAgent(endpoint, c)).ToList();
        var loops = fleet.Select(a => a.RunAsync(stop.Token)).ToList();

        // Warm-up rounds first, uncounted: the runtime compiles the poll, report and state paths in tiers, and a
        // server that has run for a day has long finished (see "The warm-up was too short" in bench/README.md).
        var idleRss = "";
        var changed = TimeSpan.Zero;
        var changeCpu = TimeSpan.Zero;
        var benchCpu = TimeSpan.Zero;
        for (var round = 0; round <= warmups; round++)
        {
            await SettleAsync(fleet);
            idleRss = ServerProcess.Rss(serverPid);
            foreach (var agent in fleet)
            {
                agent.Arm();
            }

            var measured = round == warmups;
            Console.Error.WriteLine($"all {agents} agents wait in a poll; changing {groups} groups{(measured ? "" : $" (warm-up {round + 1} of {warmups})")}");
            var cpuBefore = ServerProcess.Cpu(serverPid);
            var benchCpuBefore = Environment.CpuUsage.TotalTime;
            var clock = Stopwatch.StartNew();
            await ChangeGroupsAsync(owner, subscription, agents, groups, port: round % 2 == 0 ? 8443 : 443);
            changed = clock.Elapsed;
            while (fleet.Any(a => a.Reached is null) && clock.Elapsed < ReachLimit)
            {
                await Task.Delay(20);
            }

            changeCpu = ServerProcess.Cpu(serverPid) - cpuBefore;
            benchCpu = Environment.CpuUsage.TotalTime - benchCpuBefore;

            if (!measured)
            {
                Console.Error.WriteLine($"warm-up {round + 1}: {fleet.Count(a => a.Reached is not null)} reached in {clock.Elapsed.TotalMilliseconds:F0} ms");
            }
        }

        var reached = fleet.Where(a => a.Reached is not null).Select(a => a.Reached!.Value.TotalMilliseconds).Order().ToList();
        var peakRss = ServerProcess.PeakRss(serverPid);

        // Each SQLite connection maps the database file, and a page mapped by two connections counts twice in the
        // resident size: the file-backed part is mostly the database, the anonymous part the server's own memory.
        var split = $"{ServerProcess.Status(serverPid, "RssAnon")} / {ServerProcess.Status(serverPid, "RssFile")}";

        // The fleet going away at once (as when a network path drops): every waiting poll ends on the server.
        var goneBefore = ServerProcess.Cpu(serverPid);
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        fleet.ForEach(a => a.Dispose());
        await Task.Delay(TimeSpan.FromSeconds(1));
        var goneCpu = ServerProcess.Cpu(serverPid) - goneBefore;

        Console.WriteLine("| agents | groups changed | changes sent (ms) | reached | p50 ms | p99 ms | all ms | server RSS idle | server peak RSS | RSS anonymous / file-backed after | server CPU s: change / fleet gone | load tool CPU s: change |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {agents} | {groups} | {changed.TotalMilliseconds:F0} | {reached.Count} | {Percentile.Of(reached, 0.5):F0} | {Percentile.Of(reached, 0.99):F0} | {(reached.Count == agents ? reached[^1].ToString("F0", CultureInfo.InvariantCulture) : "not all")} | {idleRss} | {peakRss} | {split} | {changeCpu.TotalSeconds:F2} / {goneCpu.TotalSeconds:F2} | {benchCpu.TotalSeconds:F2} |"));
        Console.Error.WriteLine($"poll errors: {fleet.Sum(a => a.Errors)}");
        return reached.Count == agents ? 0 : 1;
    }

    /// <summary>Puts group fanout-K (machines f(1000K+1)..) with one rule allowing <paramref name="port"/> from the Internet.</summary>
    private static async Task ChangeGroupsAsync(HttpClient owner, string subscription, int agents, int groups, int port)
    {
        for (var g = 0; g < groups; g++)
        {
            var vms = string.Join(',', Enumerable.Range((g * GroupSize) + 1, Math.Min(GroupSize, agents - (g * GroupSize)))
                .Select(i => $$"""{"id":"{{BenchApi.VirtualMachine(subscription, $"f{i}")}}"}"""));
            var body = $$$"""
                {"location":"local","properties":{"securityRules":[{"name":"web","properties":{"priority":100,"direction":"Inbound","access":"Allow","protocol":"Tcp",
                "sourceAddressPrefix":"Internet","sourcePortRange":"*","destinationAddressPrefix":"*","destinationPortRange":"{{{port}}}"}}],"virtualMachines":[{{{vms}}}]}}
                """;
            using var put = await owner.PutAsync($"/subscriptions/{subscription}/resourceGroups/default/providers/Microsoft.Network/networkSecurityGroups/fanout{g}?api-version=2024-05-01",
                new StringContent(body, Encoding.UTF8, "application/json"));
            if (!put.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"group fanout{g}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>Waits until every agent has its state and waits in a poll again, then two seconds more (idle).</summary>
    private static async Task SettleAsync(List<SimulatedAgent> fleet)
    {
        var settle = Stopwatch.StartNew();
        while (fleet.Any(a => !a.Waiting) && settle.Elapsed < ReachLimit)
        {
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    /// <summary>The agent protocol without a firewall: poll, then poll again with the received version reported as applied.</summary>
    private sealed class SimulatedAgent(IPEndPoint server, string credential) : IDisposable
    {
        private readonly LeanHttpConnection http = new(server);
        private readonly string authorization = "Bearer " + credential;
        private long version;
        private long armedAt = -1;
        private Stopwatch? clock;

        public bool Waiting { get; private set; }

        public int Errors { get; private set; }

        public TimeSpan? Reached { get; private set; }

        /// <summary>From now on, the next new version counts as the change reaching this agent.</summary>
        public void Arm()
        {
            Reached = null;
            clock = Stopwatch.StartNew();
            Volatile.Write(ref armedAt, Volatile.Read(ref version));
        }

        public async Task RunAsync(CancellationToken ct)
        {
            long? unreported = null;
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    // As the real agent: the report of the last state rides the next poll.
                    var target = string.Create(CultureInfo.InvariantCulture, $"/agent/v1/state?after={version}");
                    var report = unreported is { } applied ? string.Create(CultureInfo.InvariantCulture, $$"""{"version":{{applied}}}""") : null;
                    Waiting = version > 0;
                    var (status, body) = await http.SendAsync(report is null ? "GET" : "POST", target, authorization, report, ct);
                    Waiting = false;
                    if (status is not (200 or 204))
                    {
                        throw new InvalidOperationException($"poll answered {status}");
                    }

                    unreported = null;
                    if (status == 204)
                    {
                        continue;
                    }

                    var received = Version(body.Span);
                    if (Volatile.Read(ref armedAt) is var armed and >= 0 && received > armed && Reached is null)
                    {
                        Reached = clock!.Elapsed;
                    }

                    Volatile.Write(ref version, received);
                    unreported = received;
                }
                catch (Exception e) when (e is IOException or SocketException or InvalidDataException or JsonException or FormatException or InvalidOperationException && !ct.IsCancellationRequested)
                {
                    Errors++;
                    http.Dispose();
                    await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public void Dispose() => http.Dispose();

        /// <summary>The state's top-level "version".</summary>
        private static long Version(ReadOnlySpan<byte> state)
        {
            var json = new Utf8JsonReader(state);
            while (json.Read())
            {
                if (json.TokenType == JsonTokenType.PropertyName && json.CurrentDepth == 1 && json.ValueTextEquals("version"u8) && json.Read())
                {
                    return json.GetInt64();
                }
            }

            throw new InvalidDataException("the state has no version");
        }
    }
}
