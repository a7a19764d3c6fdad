using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Drawbridge.Bench;
using Drawbridge.Contracts;

// drawbridge-bench latency --server URL --token T --hosts N --grants M [--fwknop MODE:ADDRESS:NAMESPACE --fwknop-keys FILE] [--chart FILE]
// Runs inside the lab's client namespace (bench/run.sh). Bounded: M grants per system, each at most 10 s.
var options = Args.Parse(args);
if (options.Command == "posture")
{
    PostureBench.Run(options.Machines, options.Rules);
    return 0;
}

if (options.Command is not ("latency" or "close" or "throughput" or "fanout"))
{
    Console.Error.WriteLine("usage: drawbridge-bench latency|close|throughput|fanout --server URL --token TOKEN [--hosts 20] [--grants 200] [--kill-pids FILE] "
        + "[--fwknop MODE:ADDRESS:NAMESPACE]... [--fwknop-keys FILE] [--source 198.18.0.100] [--chart FILE] [--label L --seconds 10 --warmup-seconds 20 --concurrency 16 --rate 500] [--agents 10000 --warmup-rounds 2] [--server-pid PID] | posture [--machines 100000] [--rules 50]");
    return 2;
}

if (options.Command is "throughput" or "fanout" && options.ServerPid <= 0)
{
    // Both read the server's CPU or memory from /proc.
    Console.Error.WriteLine($"drawbridge-bench {options.Command}: --server-pid PID (the server's process id) is required");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(options.Server), Timeout = TimeSpan.FromSeconds(10) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
var subscription = (await http.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI))!.SubscriptionId!;
if (options.Command == "throughput")
{
    return await ThroughputBench.RunAsync(http, subscription, options.Label, options.Hosts, options.Seconds, options.Concurrency, options.Rate, options.ServerPid, options.WarmupSeconds);
}

if (options.Command == "fanout")
{
    return await FanoutBench.RunAsync(http, subscription, new Uri(options.Server), options.Agents, options.WarmupRounds, options.ServerPid);
}

if (options.Command == "close")
{
    return await CloseBench.RunAsync(http, subscription, options.Hosts, Math.Min(200, options.Grants), options.KillPids);
}

// Drawbridge first, then each fwknop daemon ("mode:address:namespace"), their grants taking turns.
var systems = new List<(string Name, IGrantSystem System)> { ("drawbridge", new DrawbridgeGrants(http, subscription, options.Hosts, options.Verbose)) };
foreach (var daemon in options.Fwknop)
{
    var (mode, address, ns) = daemon.Split(':') is [var m, var a, var n] ? (m, a, n) : throw new ArgumentException($"--fwknop {daemon}: expected mode:address:namespace");
    systems.Add(($"fwknop ({mode})", new FwknopGrants(IPAddress.Parse(address), ns, IPAddress.Parse(options.Source), options.FwknopKeys)));
}

var results = await LatencyBench.RunAsync(systems.ConvertAll(s => s.System), options.Grants, options.Warmup, options.Verbose);
var named = systems.Select((s, i) => (s.Name, results[i])).ToList();
LatencyReport.Print(named);
if (options.Chart is { } chart)
{
    LatencyReport.WriteChart(chart, named, string.Create(CultureInfo.InvariantCulture, $"Grant latency, {options.Grants} grants each, {DateTime.UtcNow:yyyy-MM-dd}"));
}

foreach (var disposable in systems.Select(s => s.System).OfType<IDisposable>())
{
    disposable.Dispose();
}

return 0;

internal sealed record Args(string Command, string Server, string Token, int Hosts, int Grants, bool Verbose, int Warmup, int Machines, int Rules, string? KillPids,
    string Label, int Seconds, int Concurrency, int Rate, string[] Fwknop, string FwknopKeys, string Source, string? Chart, int Agents, int ServerPid, int WarmupSeconds, int WarmupRounds)
{
    public static Args Parse(string[] args)
    {
        string Value(string name, string fallback) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        return new Args(args.FirstOrDefault() ?? "", Value("--server", ""), Value("--token", ""),
            int.Parse(Value("--hosts", "20"), CultureInfo.InvariantCulture), Math.Min(1000, int.Parse(Value("--grants", "200"), CultureInfo.InvariantCulture)),
            args.Contains("--verbose"),
            Math.Min(1000, int.Parse(Value("--warmup", "50"), CultureInfo.InvariantCulture)),
            Math.Min(1_000_000, int.Parse(Value("--machines", "100000"), CultureInfo.InvariantCulture)),
            Math.Min(1000, int.Parse(Value("--rules", "50"), CultureInfo.InvariantCulture)),
            Value("--kill-pids", "") is { Length: > 0 } pids ? pids : null,
            Value("--label", "drawbridge"), Math.Clamp(int.Parse(Value("--seconds", "10"), CultureInfo.InvariantCulture), 1, 120),
            Math.Clamp(int.Parse(Value("--concurrency", "16"), CultureInfo.InvariantCulture), 1, 256),
            Math.Clamp(int.Parse(Value("--rate", "500"), CultureInfo.InvariantCulture), 1, 20_000),
            [.. args.Select((a, i) => (a, i)).Where(p => p.a == "--fwknop" && p.i + 1 < args.Length).Select(p => args[p.i + 1])],
            Value("--fwknop-keys", ""), Value("--source", "198.18.0.100"), Value("--chart", "") is { Length: > 0 } chart ? chart : null,
            Math.Clamp(int.Parse(Value("--agents", "10000"), CultureInfo.InvariantCulture), 1, 10_000), int.Parse(Value("--server-pid", "0"), CultureInfo.InvariantCulture),
            Math.Clamp(int.Parse(Value("--warmup-seconds", "20"), CultureInfo.InvariantCulture), 0, 120),
            Math.Clamp(int.Parse(Value("--warmup-rounds", "2"), CultureInfo.InvariantCulture), 0, 10));
    }
}
