using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

internal static class VmCommands
{
    public static Command Create()
    {
        var list = new Command("list", "List machines and their agents");
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var machines = await api.GetAsync(api.MachinesPath(), DrawbridgeJson.Wire.ArmListVirtualMachine, ct);
            printer.Show(machines, DrawbridgeJson.Indented.ArmListVirtualMachine, () =>
            {
                printer.Table(["NAME", "RESOURCE GROUP", "JIT", "AGENT", "APPLIED/DESIRED", "ADDRESSES"], machines.Value.Select(m => new[]
                {
                    m.Name ?? "",
                    ResourceGroupOf(m.Id),
                    m.Properties?.JitEnabled == true ? "enabled" : "-",
                    m.Properties?.Agent?.Status ?? "none",
                    m.Properties?.Agent is { } a ? $"{a.AppliedVersion}/{a.DesiredVersion}" : "-",
                    string.Join(", ", m.Properties?.Addresses ?? []),
                }));
            });
            return 0;
        });
        var vm = new Argument<string>("vm") { Description = "Machine name or ARM id" };
        var port = new Option<int?>("--port", "-p") { Description = "One port (default: 22, 3389, 5985 and 5986)" };
        var protocol = new Option<string?>("--protocol") { Description = "tcp or udp (default: both)" };
        var access = new Command("access", "Which sources reach a machine's ports after its network security groups and JIT deny (grants aside)")
        {
            vm, port, protocol, Cli.ResourceGroup,
        };
        access.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var query = (result.GetValue(port) is { } p ? $"&port={p}" : "") + (result.GetValue(protocol) is { } t ? $"&protocol={Uri.EscapeDataString(t)}" : "");
            var id = api.VirtualMachineId(result.GetValue(vm)!, result.GetValue(Cli.ResourceGroup)!);
            var effective = await api.GetAsync(DrawbridgeApi.WithVersion($"{id}/effectiveNetworkAccess", DrawbridgeApi.NetworkApiVersion) + query,
                DrawbridgeJson.Wire.EffectiveNetworkAccess, ct);
            printer.Show(effective, DrawbridgeJson.Indented.EffectiveNetworkAccess, () => printer.Table(["PORT", "JIT", "FROM INTERNET", "RULE", "ALLOWED SOURCES"],
                effective.Value.Select(a => new[]
                {
                    $"{a.Port}/{a.Protocol?.ToLowerInvariant()}",
                    a.JitProtected ? "protected" : "-",
                    a.FromInternet ? "yes" : "no",
                    a.SecurityRule is { } rule ? $"{Printer.Name(a.NetworkSecurityGroupId)}/{rule}" : "-",
                    a.AllowedSources.Count == 0 ? "none" : string.Join(", ", a.AllowedSources),
                })));
            return 0;
        });
        return new Command("vm", "Machines") { list, access };
    }

    public static async Task<VirtualMachine> GetAsync(DrawbridgeApi api, string name, string resourceGroup, CancellationToken ct)
    {
        var id = api.VirtualMachineId(name, resourceGroup);
        return await api.FindAsync(DrawbridgeApi.WithVersion(id, DrawbridgeApi.ComputeApiVersion), DrawbridgeJson.Wire.VirtualMachine, ct)
            ?? throw new CliException($"machine '{name}' does not exist in resource group '{resourceGroup}'.");
    }

    private static string ResourceGroupOf(string? id)
    {
        var parts = id?.Split('/') ?? [];
        var index = Array.FindIndex(parts, p => p.Equals("resourceGroups", StringComparison.OrdinalIgnoreCase));
        return index >= 0 && index + 1 < parts.Length ? parts[index + 1] : "";
    }
}
