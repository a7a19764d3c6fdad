using System.CommandLine;
using System.Globalization;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;
using Drawbridge.Jit;

namespace Drawbridge.Cli.Commands;

/// <summary>jit enable|show|disable: a machine's entry in its JIT policy (the resource group's "default" policy for new ones).</summary>
internal static class JitCommands
{
    /// <summary>Defender for Cloud's default management ports.</summary>
    public static readonly int[] DefaultPorts = [22, 3389, 5985, 5986];

    // The settings of a JIT configuration, shared by 'jit enable' and 'assess --remediate'.
    private static readonly Option<string[]> Ports = new("--port", "-p")
    {
        Description = "Port to protect, as 22, 22/tcp, 53/udp or 22/* (repeatable; default 22 3389 5985 5986)", AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<string> MaxDuration = new("--max-duration") { Description = "Longest grant a request may ask for (3h, PT3H, ...)", DefaultValueFactory = _ => "3h" };
    private static readonly Option<string[]> Sources = new("--source") { Description = "Allowed source prefix (repeatable; default: any, chosen per request)", AllowMultipleArgumentsPerToken = true };

    public static IEnumerable<Option> SettingsOptions => [Ports, MaxDuration, Sources];

    /// <summary>The port rules the settings options describe (Defender for Cloud's defaults when none are given).</summary>
    public static List<JitNetworkAccessPortRule> RulesFrom(ParseResult result) =>
        ParseRules(result.GetValue(Ports) ?? [], result.GetValue(MaxDuration)!, result.GetValue(Sources) ?? []);

    public static Command Create()
    {
        var vm = new Argument<string>("vm") { Description = "Machine name or ARM id" };

        var enable = new Command("enable", "Protect a machine's management ports with just-in-time access") { vm, Ports, MaxDuration, Sources, Cli.ResourceGroup };
        enable.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var machine = await VmCommands.GetAsync(api, result.GetValue(vm)!, result.GetValue(Cli.ResourceGroup)!, ct);
            var saved = await EnableAsync(api, machine, result.GetValue(Cli.ResourceGroup)!, RulesFrom(result), ct);
            PrintMachine(printer, saved, machine.Id!, $"Just-in-time access enabled on {machine.Name} (policy {saved.Name}).");
            return 0;
        });

        var show = new Command("show", "Show a machine's just-in-time configuration") { vm, Cli.ResourceGroup };
        show.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var machine = await VmCommands.GetAsync(api, result.GetValue(vm)!, result.GetValue(Cli.ResourceGroup)!, ct);
            var policy = await FindPolicyAsync(api, machine.Id!, ct) ?? throw NotEnabled(machine.Name);
            PrintMachine(printer, policy, machine.Id!, $"{machine.Name}: policy {policy.Name} ({policy.Location})");
            return 0;
        });

        var disable = new Command("disable", "Remove a machine from just-in-time access (its ports are no longer closed by Drawbridge)") { vm, Cli.ResourceGroup };
        disable.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var machine = await VmCommands.GetAsync(api, result.GetValue(vm)!, result.GetValue(Cli.ResourceGroup)!, ct);
            var policy = await FindPolicyAsync(api, machine.Id!, ct) ?? throw NotEnabled(machine.Name);
            policy.Properties!.VirtualMachines!.RemoveAll(m => SameId(m.Id, machine.Id));
            policy.Properties.Requests = null;
            if (policy.Properties.VirtualMachines.Count == 0)
            {
                await api.DeleteAsync(DrawbridgeApi.PolicyPath(policy.Id!), ct);
            }
            else
            {
                await api.PutAsync(DrawbridgeApi.PolicyPath(policy.Id!), policy, DrawbridgeJson.Wire.JitNetworkAccessPolicy, DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct);
            }

            printer.Line($"Just-in-time access disabled on {machine.Name}.");
            return 0;
        });

        return new Command("jit", "Just-in-time access configuration") { enable, show, disable };
    }

    /// <summary>Puts the machine with these rules into its policy, or into its resource group's "default" policy.</summary>
    public static async Task<JitNetworkAccessPolicy> EnableAsync(DrawbridgeApi api, VirtualMachine machine, string resourceGroup, List<JitNetworkAccessPortRule> rules, CancellationToken ct)
    {
        var policy = await FindPolicyAsync(api, machine.Id!, ct)
            ?? await api.FindAsync(api.PolicyPath(resourceGroup, machine.Location ?? "local", DrawbridgeApi.DefaultPolicyName), DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct)
            ?? NewPolicy(api, resourceGroup, machine.Location ?? "local");
        var machines = policy.Properties!.VirtualMachines ??= [];
        machines.RemoveAll(m => SameId(m.Id, machine.Id));
        machines.Add(new JitNetworkAccessPolicyVirtualMachine { Id = machine.Id, Ports = rules });
        policy.Properties.Requests = null;
        return await api.PutAsync(DrawbridgeApi.PolicyPath(policy.Id!), policy, DrawbridgeJson.Wire.JitNetworkAccessPolicy, DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct);
    }

    /// <summary>The policy that lists this machine, if any; a machine is in at most one.</summary>
    public static async Task<JitNetworkAccessPolicy?> FindPolicyAsync(DrawbridgeApi api, string machineId, CancellationToken ct)
    {
        var policies = await api.GetAsync(api.PoliciesPath(), DrawbridgeJson.Wire.ArmListJitNetworkAccessPolicy, ct);
        return policies.Value.FirstOrDefault(p => p.Properties?.VirtualMachines?.Any(m => SameId(m.Id, machineId)) == true);
    }

    public static CliException NotEnabled(string? machine) =>
        new($"just-in-time access is not enabled on '{machine}'; an administrator can run 'drawbridge jit enable {machine}'.");

    internal static List<JitNetworkAccessPortRule> ParseRules(string[] ports, string maxDuration, string[] sources)
    {
        if (!JitDuration.TryParse(maxDuration, out var max))
        {
            throw new CliException($"--max-duration '{maxDuration}' is not a duration (e.g. 3h, 90m, PT3H).");
        }

        var specs = ports.Length == 0 ? DefaultPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray() : ports;
        return specs.Select(spec =>
        {
            var (number, protocol) = ParsePort(spec);
            return new JitNetworkAccessPortRule
            {
                Number = number,
                Protocol = protocol,
                AllowedSourceAddressPrefix = sources.Length switch { 0 => "*", 1 => sources[0], _ => null },
                AllowedSourceAddressPrefixes = sources.Length > 1 ? sources.ToList() : null,
                MaxRequestAccessDuration = JitDuration.ToIso(max),
            };
        }).ToList();
    }

    /// <summary>"22" (any protocol), "22/tcp", "53/udp", "22/*".</summary>
    internal static (int Number, string Protocol) ParsePort(string spec)
    {
        var parts = spec.Split('/');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new CliException($"--port '{spec}' is not a port (1..65535, optionally /tcp, /udp or /*).");
        }

        if (parts.Length == 1)
        {
            return (number, "*");
        }

        return PortProtocols.TryParse(parts[1], out var protocol)
            ? (number, protocol.ToAzure())
            : throw new CliException($"--port '{spec}': '{parts[1]}' is not tcp, udp or *.");
    }

    private static bool SameId(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static JitNetworkAccessPolicy NewPolicy(DrawbridgeApi api, string resourceGroup, string location) => new()
    {
        Id = $"/{api.Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Security/locations/{location}/jitNetworkAccessPolicies/{DrawbridgeApi.DefaultPolicyName}",
        Kind = "Basic",
        Properties = new JitNetworkAccessPolicyProperties { VirtualMachines = [] },
    };

    private static void PrintMachine(Printer printer, JitNetworkAccessPolicy policy, string machineId, string title)
    {
        var entry = policy.Properties?.VirtualMachines?.FirstOrDefault(m => SameId(m.Id, machineId));
        printer.Show(policy, DrawbridgeJson.Indented.JitNetworkAccessPolicy, () =>
        {
            printer.Line(title);
            printer.Table(["PORT", "PROTOCOL", "ALLOWED SOURCES", "MAX DURATION"], (entry?.Ports ?? []).Select(p => new[]
            {
                p.Number?.ToString(CultureInfo.InvariantCulture) ?? "",
                p.Protocol ?? "*",
                p.AllowedSourceAddressPrefix ?? string.Join(", ", p.AllowedSourceAddressPrefixes ?? []),
                JitDuration.TryParse(p.MaxRequestAccessDuration, out var span) ? JitDuration.ToShort(span) : p.MaxRequestAccessDuration ?? "",
            }));
        });
    }
}
