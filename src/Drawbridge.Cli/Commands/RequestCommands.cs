using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>request, requests list, revoke and ssh: asking for access and giving it back.</summary>
internal static class RequestCommands
{
    private static readonly Option<string?> Duration = new("--duration", "-d") { Description = "How long (1h, 90m, PT1H; default: the port's maximum)" };
    private static readonly Option<string?> Source = new("--source") { Description = "Address or prefix to open for (default: your address as the server sees it)" };
    private static readonly Option<string?> Justification = new("--justification", "-j") { Description = "Why you need access (kept in the audit log)" };
    private static readonly Option<string> WaitTimeout = new("--wait-timeout") { Description = "How long to wait for the agent to open the port", DefaultValueFactory = _ => "60s" };

    public static Command Request()
    {
        var vm = new Argument<string>("vm") { Description = "Machine name or ARM id" };
        var ports = new Option<int[]>("--port", "-p") { Description = "Port to open (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the request is accepted, without waiting for the agent" };
        var command = new Command("request", "Ask for just-in-time access to ports of a machine; waits until they are open")
        {
            vm, ports, Duration, Source, Justification, noWait, WaitTimeout, Cli.ResourceGroup,
        };
        command.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var request = await InitiateAsync(api, result, result.GetValue(vm)!, result.GetValue(ports)!, ct);
            if (!result.GetValue(noWait))
            {
                request = await WaitUntilActiveAsync(api, request, WaitTimeoutOf(result), ct);
            }

            Print(printer, request);
            return 0;
        });
        return command;
    }

    public static Command Requests()
    {
        var active = new Option<bool>("--active") { Description = "Only requests with ports still open" };
        var list = new Command("list", "List access requests (yours, or all for administrators)") { active };
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var requests = await api.GetAsync(api.RequestsPath(result.GetValue(active)), DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest, ct);
            printer.Show(requests, DrawbridgeJson.Indented.ArmListJitNetworkAccessRequest, () =>
            {
                var now = DateTimeOffset.UtcNow;
                printer.Table(["ID", "REQUESTOR", "MACHINE", "PORT", "SOURCE", "STATE", "ENDS"], requests.Value.SelectMany(r =>
                    r.VirtualMachines.SelectMany(m => m.Ports.Select(p => new[]
                    {
                        Printer.Name(r.Id), r.Requestor ?? "", Printer.Name(m.Id), $"{p.Number}/{p.Protocol}", Printer.Sources(p),
                        p.State ?? p.Status ?? "", Printer.When(p.EndTimeUtc, now),
                    }))));
            });
            return 0;
        });
        return new Command("requests", "Access requests") { list };
    }

    public static Command Revoke()
    {
        var id = new Argument<string>("id") { Description = "Request id (from 'drawbridge requests list')" };
        var command = new Command("revoke", "End a request now; its ports close at once") { id };
        command.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var request = await api.PostAsync(api.RequestPath(result.GetValue(id)!, "/revoke"), DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
            printer.Show(request, DrawbridgeJson.Indented.JitNetworkAccessRequest, () =>
            {
                printer.Line($"Revoked request {Printer.Name(request.Id)}.");
            });
            return 0;
        });
        return command;
    }

    public static Command Ssh()
    {
        var vm = new Argument<string>("vm") { Description = "Machine name or ARM id" };
        var address = new Option<string?>("--address") { Description = "Address to connect to (default: the machine's first reported address)" };
        var sshArgs = new Argument<string[]>("ssh-args") { Description = "Arguments for ssh, after --", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("ssh", "Request port 22, wait until it is open, then run ssh")
        {
            vm, sshArgs, address, Duration, Source, Justification, WaitTimeout, Cli.ResourceGroup,
        };
        command.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var machine = await VmCommands.GetAsync(api, result.GetValue(vm)!, result.GetValue(Cli.ResourceGroup)!, ct);
            var host = result.GetValue(address) ?? machine.Properties?.Addresses?.OrderBy(a => a.Contains(':', StringComparison.Ordinal)).FirstOrDefault()
                ?? throw new CliException($"machine '{machine.Name}' reported no address; pass --address.");
            var request = await InitiateAsync(api, result, machine.Id!, [22], ct);
            request = await WaitUntilActiveAsync(api, request, WaitTimeoutOf(result), ct);
            await Console.Error.WriteLineAsync(
                $"Port 22 on {machine.Name} is open for you until {request.VirtualMachines[0].Ports[0].EndTimeUtc.UtcDateTime:u} (request {Printer.Name(request.Id)}).");

            // ssh inherits this terminal; its exit code becomes ours. The host goes first: OpenSSH reads options after
            // it, and anything that is not an option is the remote command.
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DRAWBRIDGE_SSH") is { Length: > 0 } ssh ? ssh : "ssh") { UseShellExecute = false };
            start.ArgumentList.Add(host);
            foreach (var arg in result.GetValue(sshArgs) ?? [])
            {
                start.ArgumentList.Add(arg);
            }
            using var process = Process.Start(start) ?? throw new CliException("could not start ssh.");
            await process.WaitForExitAsync(ct);
            return process.ExitCode;
        });
        return command;
    }

    private static async Task<JitNetworkAccessRequest> InitiateAsync(DrawbridgeApi api, ParseResult result, string vm, int[] ports, CancellationToken ct)
    {
        var machine = await VmCommands.GetAsync(api, vm, result.GetValue(Cli.ResourceGroup)!, ct);
        var policy = await JitCommands.FindPolicyAsync(api, machine.Id!, ct) ?? throw JitCommands.NotEnabled(machine.Name);
        var body = new JitNetworkAccessPolicyInitiateRequest
        {
            Justification = result.GetValue(Justification),
            VirtualMachines =
            [
                new JitNetworkAccessPolicyInitiateVirtualMachine
                {
                    Id = machine.Id,
                    Ports = ports.Select(p => new JitNetworkAccessPolicyInitiatePort
                    {
                        Number = p,
                        Duration = result.GetValue(Duration),
                        AllowedSourceAddressPrefix = result.GetValue(Source),
                    }).ToList(),
                },
            ],
        };
        return await api.PostAsync(DrawbridgeApi.PolicyPath(policy.Id!, "/initiate"), body,
            DrawbridgeJson.Wire.JitNetworkAccessPolicyInitiateRequest, DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
    }

    /// <summary>Polls the request until every port is Active (the agent confirmed), or one ended, or time is up.</summary>
    private static async Task<JitNetworkAccessRequest> WaitUntilActiveAsync(DrawbridgeApi api, JitNetworkAccessRequest request, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ports = request.VirtualMachines.SelectMany(m => m.Ports).ToList();
            if (ports.All(p => p.State == "Active"))
            {
                return request;
            }

            if (ports.FirstOrDefault(p => p.Status == "Revoked") is { } ended)
            {
                throw new CliException($"request {Printer.Name(request.Id)} ended before it was open: port {ended.Number} is {ended.State} ({ended.StatusReason}).");
            }

            if (clock.Elapsed > timeout)
            {
                throw new CliException($"the machine's agent has not confirmed within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; request {Printer.Name(request.Id)} stays in place (check 'drawbridge vm list').");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            request = await api.GetAsync(api.RequestPath(request.Id!), DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
        }
    }

    private static TimeSpan WaitTimeoutOf(ParseResult result) =>
        Drawbridge.Jit.JitDuration.TryParse(result.GetValue(WaitTimeout), out var timeout) ? timeout
            : throw new CliException($"--wait-timeout '{result.GetValue(WaitTimeout)}' is not a duration (e.g. 60s).");

    private static void Print(Printer printer, JitNetworkAccessRequest request) =>
        printer.Show(request, DrawbridgeJson.Indented.JitNetworkAccessRequest, () =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var machine in request.VirtualMachines)
            {
                foreach (var port in machine.Ports)
                {
                    var verb = port.State == "Active" ? "Open" : "Accepted";
                    printer.Line($"{verb}: {Printer.Name(machine.Id)} port {port.Number}/{port.Protocol} for {Printer.Sources(port)} until {Printer.When(port.EndTimeUtc, now)}");
                }
            }

            printer.Line($"Request {Printer.Name(request.Id)}; end it early with: drawbridge revoke {Printer.Name(request.Id)}");
        });
}
