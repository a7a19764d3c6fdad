using System.CommandLine;
using Drawbridge.Agent.Enrollment;
using Drawbridge.Agent.Nftables;
using Drawbridge.Agent.Sync;
using Drawbridge.Jit;
using Microsoft.Extensions.Logging;

var stateDir = new Option<string>("--state-dir")
{
    Description = "Where the agent keeps its credential and last state",
    DefaultValueFactory = _ => "/var/lib/drawbridge-agent",
};

var server = new Option<string>("--server") { Description = "Drawbridge server URL, e.g. http://drawbridge:5080", Required = true };
var token = new Option<string>("--token") { Description = "One-time enrollment token from 'drawbridge enroll-token create'", Required = true };
var name = new Option<string?>("--name") { Description = "Machine name to register (default: host name)" };
var enroll = new Command("enroll", "Exchange a one-time enrollment token for this agent's own credential") { server, token, name, stateDir };
enroll.SetAction((result, ct) => EnrollCommand.RunAsync(result.GetValue(server)!, result.GetValue(token)!, result.GetValue(name), result.GetValue(stateDir)!, ct));

var bootFile = new Option<string?>("--boot-file") { Description = "File the system's nftables service includes at boot (default: {state-dir}/boot.nft)" };
var driftInterval = new Option<string>("--drift-interval") { Description = "How often the table is checked for drift", DefaultValueFactory = _ => "1s" };
var nftPath = new Option<string?>("--nft") { Description = "Use this nft binary (a process per change) instead of libnftables in-process" };
var run = new Command("run", "Enforce this machine's desired state until stopped") { stateDir, bootFile, driftInterval, nftPath };
run.SetAction(async (result, ct) =>
{
    var directory = result.GetValue(stateDir)!;
    if (AgentIdentity.Load(directory) is not { } identity)
    {
        await Console.Error.WriteLineAsync($"error: not enrolled; run 'drawbridge-agent enroll --server URL --token TOKEN --state-dir {directory}' first.");
        return 1;
    }

    if (!JitDuration.TryParse(result.GetValue(driftInterval), out var interval) || interval < TimeSpan.FromMilliseconds(100))
    {
        await Console.Error.WriteLineAsync("error: --drift-interval must be a duration of at least 0.1s (e.g. 1s).");
        return 2;
    }

    using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
        o.UseUtcTimestamp = true;
    }));
    using var client = new ServerClient(identity);
    using var library = result.GetValue(nftPath) is null ? LibNftables.TryCreate() : null;
    INftables nft = library is not null ? library : new NftCommand(result.GetValue(nftPath) ?? "nft");
    var logger = loggers.CreateLogger("drawbridge-agent");
    var firewall = new NftablesFirewall(nft, result.GetValue(bootFile) ?? Path.Combine(directory, "boot.nft"), logger);
    using var loop = new AgentLoop(client, firewall, directory, interval, logger);
    try
    {
        await loop.RunAsync(library is not null ? "libnftables (in-process)" : $"the nft binary ({result.GetValue(nftPath) ?? "nft"})", ct);
    }
    catch (OperationCanceledException) when (ct.IsCancellationRequested)
    {
        // Stopped: the table stays as it is and its timeouts keep running.
    }

    return 0;
});

var root = new RootCommand("Drawbridge agent: enforces just-in-time access on this host with nftables") { enroll, run };
return await root.Parse(args).InvokeAsync();
