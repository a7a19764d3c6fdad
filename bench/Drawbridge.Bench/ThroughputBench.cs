using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Drawbridge.Contracts;

namespace Drawbridge.Bench;

/// <summary>
/// API throughput of initiate: a closed loop (C callers, each sending its next request when the last one answered)
/// and an open loop (requests sent on a fixed schedule whatever the answers, latency measured from the scheduled
/// instant so a slow server cannot hide its queue). Machines are enrolled through the agent channel but run no
/// agent: this measures the server and its database. The initiates come from many requesters, one per caller of the
/// closed loop, as a fleet's come from many people: each initiate counts its requester's live grants against the cap,
/// and one principal making all the load held 20,000 of them (bench/README.md, "Throughput"). Bounded: each loop runs
/// for a fixed number of seconds, and the open loop never has more than 2,000 requests outstanding.
/// </summary>
internal static class ThroughputBench
{
    private const int MaxOutstanding = 2000;

    public static async Task<int> RunAsync(HttpClient owner, string subscription, string label, int machines, int seconds, int concurrency, int rate, int serverPid, int warmupSeconds)
    {
        const string policy = "throughput";
        await SetupAsync(owner, subscription, policy, machines);
        var requesters = await RequestersAsync(owner, subscription, concurrency);

        // Warm-up, not counted. The runtime re-compiles hot code in tiers (quick code first, then instrumented, then
        // optimized with the profile it gathered); under full load on 2 cores that takes about 20 s of the server's CPU.
        await ClosedLoopAsync(requesters, subscription, policy, machines, TimeSpan.FromSeconds(warmupSeconds), 0);
        var cpu = ServerProcess.Cpu(serverPid);
        var closed = await ClosedLoopAsync(requesters, subscription, policy, machines, TimeSpan.FromSeconds(seconds), 100_000);
        Print(label, $"closed loop, {concurrency} callers", closed.Latencies, closed.Failures, seconds, ServerProcess.Cpu(serverPid) - cpu);
        cpu = ServerProcess.Cpu(serverPid);
        var open = await OpenLoopAsync(requesters, subscription, policy, machines, rate, TimeSpan.FromSeconds(seconds));
        Print(label, $"open loop, {rate}/s offered", open.Latencies, open.Failures, seconds, ServerProcess.Cpu(serverPid) - cpu);
        foreach (var requester in requesters)
        {
            requester.Dispose();
        }

        return 0;
    }

    /// <summary>Users bench-requester-1..N, each a JitRequester at the subscription, and a client with a token of each.</summary>
    private static async Task<HttpClient[]> RequestersAsync(HttpClient owner, string subscription, int count)
    {
        var requesters = new HttpClient[count];
        for (var i = 0; i < count; i++)
        {
            var name = $"bench-requester-{i + 1}";
            using var user = await owner.PostAsJsonAsync("/api/v1/users", new UserCreateRequest { Name = name }, DrawbridgeJson.Wire.UserCreateRequest);
            await BenchApi.EnsureAsync(user, name);
            using var role = await owner.PostAsJsonAsync("/api/v1/role-assignments",
                new RoleAssignmentCreateRequest { Principal = name, Role = "JitRequester", Scope = $"/subscriptions/{subscription}" }, DrawbridgeJson.Wire.RoleAssignmentCreateRequest);
            await BenchApi.EnsureAsync(role, $"{name}'s role");
            using var token = await owner.PostAsJsonAsync("/api/v1/tokens", new ApiTokenCreateRequest { Principal = name, Ttl = "1d" }, DrawbridgeJson.Wire.ApiTokenCreateRequest);
            await BenchApi.EnsureAsync(token, $"{name}'s token");
            requesters[i] = new HttpClient { BaseAddress = owner.BaseAddress, Timeout = owner.Timeout };
            requesters[i].DefaultRequestHeaders.Authorization =
                new AuthenticationHeaderValue("Bearer", (await token.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ApiTokenView))!.Token);
        }

        return requesters;
    }

    private static async Task SetupAsync(HttpClient http, string subscription, string policy, int machines)
    {
        await BenchApi.EnrollAsync(http, "t", machines);
        var vms = string.Join(',', Enumerable.Range(1, machines).Select(i =>
            $$"""{"id":"{{BenchApi.VirtualMachine(subscription, $"t{i}")}}","ports":[{"number":22,"protocol":"*","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]}"""));
        using var put = await http.PutAsync($"{BenchApi.Policy(subscription, policy)}?api-version=2020-01-01", new StringContent("""{"properties":{"virtualMachines":[""" + vms + "]}}", Encoding.UTF8, "application/json"));
        await BenchApi.EnsureAsync(put, "policy");
    }

    private static async Task<bool> InitiateAsync(HttpClient http, string subscription, string policy, int machine, int sequence)
    {
        try
        {
            // A source per request (inside 10.0.0.0/8): each initiate is a new grant, not a supersede of the previous one.
            using var response = await BenchApi.InitiateAsync(http, subscription, policy, $"t{machine}", "PT1H", $"10.{(sequence >> 16) & 255}.{(sequence >> 8) & 255}.{sequence & 255}");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
        {
            // Timed out (the client gives up after 10 s) or refused: a failure, counted, not the end of the run.
            return false;
        }
    }

    private static async Task<(List<double> Latencies, int Failures)> ClosedLoopAsync(
        HttpClient[] requesters, string subscription, string policy, int machines, TimeSpan duration, int firstSequence)
    {
        var latencies = new List<double>();
        var failures = 0;
        var sequence = firstSequence;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(requesters.Select(async http =>
        {
            while (stop.Elapsed < duration)
            {
                var n = Interlocked.Increment(ref sequence);
                var clock = Stopwatch.StartNew();
                var ok = await InitiateAsync(http, subscription, policy, (n % machines) + 1, n);
                lock (latencies)
                {
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                    failures += ok ? 0 : 1;
                }
            }
        }));
        return (latencies, failures);
    }

    private static async Task<(List<double> Latencies, int Failures)> OpenLoopAsync(HttpClient[] requesters, string subscription, string policy, int machines, int rate, TimeSpan duration)
    {
        var latencies = new List<double>();
        var failures = 0;
        var outstanding = 0;
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var total = (int)(rate * duration.TotalSeconds);
        for (var n = 0; n < total; n++)
        {
            var scheduled = TimeSpan.FromSeconds((double)n / rate);
            if (scheduled > clock.Elapsed)
            {
                await Task.Delay(scheduled - clock.Elapsed);
            }

            if (Volatile.Read(ref outstanding) >= MaxOutstanding)
            {
                Interlocked.Increment(ref failures);
                continue;
            }

            Interlocked.Increment(ref outstanding);
            var sequence = 1_000_000 + n;
            tasks.Add(Task.Run(async () =>
            {
                var ok = await InitiateAsync(requesters[sequence % requesters.Length], subscription, policy, (sequence % machines) + 1, sequence);
                var latency = (clock.Elapsed - scheduled).TotalMilliseconds;
                Interlocked.Decrement(ref outstanding);
                lock (latencies)
                {
                    latencies.Add(latency);
                    failures += ok ? 0 : 1;
                }
            }));
        }

        await Task.WhenAll(tasks);
        return (latencies, failures);
    }

    private static void Print(string label, string loop, List<double> latencies, int failures, int seconds, TimeSpan serverCpu)
    {
        latencies.Sort();
        var answered = latencies.Count - failures;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {loop} | {answered / (double)seconds:F0} | {failures} | {Percentile.Of(latencies, 0.5):F1} | {Percentile.Of(latencies, 0.99):F1} | {(latencies.Count == 0 ? double.NaN : latencies[^1]):F1} | {serverCpu.TotalMilliseconds / Math.Max(1, answered):F2} |"));
    }
}
