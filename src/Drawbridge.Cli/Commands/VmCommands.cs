using System.CommandLine;
using Drawbridge.Cli.Api;
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
        return new Command("vm", "Machines") { list };
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
