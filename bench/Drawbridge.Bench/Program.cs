using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Drawbridge.Contracts;

// drawbridge-bench latency --server URL --token T --hosts N --grants M
// Runs inside the lab's client namespace (bench/run.sh). Bounded: M grants, each at most 10 s.
var options = Args.Parse(args);
if (options.Command == "posture")
{
    Drawbridge.Bench.PostureBench.Run(options.Machines, options.Rules);
    return 0;
}

if (options.Command is not ("latency" or "close" or "throughput"))
{
    Console.Error.WriteLine("usage: drawbridge-bench latency|close|throughput --server URL --token TOKEN [--hosts 20] [--grants 200] [--kill-pids FILE] "
        + "[--label L --seconds 10 --concurrency 16 --rate 500] | posture [--machines 100000] [--rules 50]");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(options.Server), Timeout = TimeSpan.FromSeconds(10) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
var subscription = (await http.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI))!.SubscriptionId!;
if (options.Command == "throughput")
{
    return await Drawbridge.Bench.ThroughputBench.RunAsync(http, subscription, options.Label, options.Hosts, options.Seconds, options.Concurrency, options.Rate);
}

if (options.Command == "close")
{
    return await Drawbridge.Bench.CloseBench.RunAsync(http, subscription, options.Hosts, Math.Min(200, options.Grants), options.KillPids);
}
var policy = $"/subscriptions/{subscription}/resourceGroups/default/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/default";

// Warm-up grants are not counted: a running server has its hot paths compiled at full optimization (tier 1);
// the pause after them lets the runtime finish that. Cold-start cost is a separate figure (footprint scenario).
var samples = new List<double>();
for (var i = -options.Warmup; i < options.Grants; i++)
{
    if (i == 0 && options.Warmup > 0)
    {
        samples.Clear();
        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    var host = (((i % options.Hosts) + options.Hosts) % options.Hosts) + 1;
    var target = new IPEndPoint(IPAddress.Parse($"198.18.0.{10 + host}"), 22);
    await WaitClosedAsync(target);
    await Task.Delay(options.Pause);

    var body = $$"""{"virtualMachines":[{"id":"/subscriptions/{{subscription}}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h{{host}}","ports":[{"number":22,"duration":"30s"}]}]}""";
    if (options.Verbose)
    {
        var probe = Stopwatch.StartNew();
        using var me = await http.GetAsync("/api/v1/whoami");
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"whoami {probe.Elapsed.TotalMilliseconds:F1} ms; "));
    }

    var clock = Stopwatch.StartNew();
    using var response = await http.PostAsync($"{policy}/initiate?api-version=2020-01-01", new StringContent(body, Encoding.UTF8, "application/json"));
    if (!response.IsSuccessStatusCode)
    {
        Console.Error.WriteLine($"initiate failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return 1;
    }

    var initiated = clock.Elapsed;
    var opened = await FirstConnectAsync(target, clock, TimeSpan.FromSeconds(10));
    samples.Add(opened.TotalMilliseconds);
    if (options.Verbose)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow.AddMilliseconds(-opened.TotalMilliseconds):HH:mm:ss.fff} h{host}: initiate answered {initiated.TotalMilliseconds:F1} ms, open {opened.TotalMilliseconds:F1} ms"));
    }
    var request = await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.JitNetworkAccessRequest);
    using var revoke = await http.PostAsync($"/subscriptions/{subscription}/providers/Microsoft.Security/jitNetworkAccessRequests/{request!.Id![(request.Id!.LastIndexOf('/') + 1)..]}/revoke?api-version=2020-01-01", null);
}

samples.Sort();
double P(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
var line = string.Create(CultureInfo.InvariantCulture, $"| drawbridge | {samples.Count} | {P(0.5):F1} | {P(0.9):F1} | {P(0.99):F1} | {samples[^1]:F1} |");
Console.WriteLine("| system | grants | p50 ms | p90 ms | p99 ms | max ms |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
Console.WriteLine(line);
return 0;

// A dropped SYN is only retried after about a second, so one connect attempt cannot see the port open in time:
// start a fresh attempt every millisecond and take the first that completes.
static async Task<TimeSpan> FirstConnectAsync(IPEndPoint target, Stopwatch clock, TimeSpan limit)
{
    using var done = new CancellationTokenSource(limit);
    var winner = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
    var attempts = new List<Task>();
    while (!winner.Task.IsCompleted && !done.IsCancellationRequested)
    {
        attempts.Add(AttemptAsync(target, clock, winner, done.Token));
        await Task.Delay(1);
    }

    done.Cancel();
    await Task.WhenAll(attempts);
    return winner.Task.IsCompletedSuccessfully ? winner.Task.Result : throw new TimeoutException($"{target} did not open within {limit}");
}

static async Task AttemptAsync(IPEndPoint target, Stopwatch clock, TaskCompletionSource<TimeSpan> winner, CancellationToken ct)
{
    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
    attempt.CancelAfter(TimeSpan.FromMilliseconds(200));
    try
    {
        await socket.ConnectAsync(target, attempt.Token);
        winner.TrySetResult(clock.Elapsed);
    }
    catch (Exception e) when (e is OperationCanceledException or SocketException)
    {
        // Dropped or refused: a later attempt will tell.
    }
}

// Before each grant the port must be closed again (the previous grant on this host was revoked).
static async Task WaitClosedAsync(IPEndPoint target)
{
    for (var i = 0; i < 100; i++)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        try
        {
            await socket.ConnectAsync(target, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return;
        }

        await Task.Delay(20);
    }

    throw new TimeoutException($"{target} stayed open");
}

internal sealed record Args(string Command, string Server, string Token, int Hosts, int Grants, bool Verbose, int Pause, int Warmup, int Machines, int Rules, string? KillPids,
    string Label, int Seconds, int Concurrency, int Rate)
{
    public static Args Parse(string[] args)
    {
        string Value(string name, string fallback) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        return new Args(args.FirstOrDefault() ?? "", Value("--server", ""), Value("--token", ""),
            int.Parse(Value("--hosts", "20"), CultureInfo.InvariantCulture), Math.Min(1000, int.Parse(Value("--grants", "200"), CultureInfo.InvariantCulture)),
            args.Contains("--verbose"), int.Parse(Value("--pause-ms", "0"), CultureInfo.InvariantCulture),
            Math.Min(1000, int.Parse(Value("--warmup", "50"), CultureInfo.InvariantCulture)),
            Math.Min(1_000_000, int.Parse(Value("--machines", "100000"), CultureInfo.InvariantCulture)),
            Math.Min(1000, int.Parse(Value("--rules", "50"), CultureInfo.InvariantCulture)),
            Value("--kill-pids", "") is { Length: > 0 } pids ? pids : null,
            Value("--label", "drawbridge"), Math.Clamp(int.Parse(Value("--seconds", "10"), CultureInfo.InvariantCulture), 1, 120),
            Math.Clamp(int.Parse(Value("--concurrency", "16"), CultureInfo.InvariantCulture), 1, 256),
            Math.Clamp(int.Parse(Value("--rate", "500"), CultureInfo.InvariantCulture), 1, 20_000));
    }
}
