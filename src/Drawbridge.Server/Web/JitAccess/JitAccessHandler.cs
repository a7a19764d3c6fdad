using Drawbridge.Authorization;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.JitAccess;

public enum JitTab
{
    Configured,
    NotConfigured,
    Unsupported,
}

public sealed record JitAccessModel(JitTab Tab, IReadOnlyDictionary<JitTab, int> Counts, IReadOnlyList<FleetMachine> Machines, IReadOnlyDictionary<Guid, MachineUse> Use);

internal static class JitAccessHandler
{
    public static async Task<IResult> RenderAsync(HttpContext http, string? tab, Fleet fleet, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var (current, unknown) = WebPage.Tab(viewer, tab, JitTab.Configured);
        if (unknown is not null)
        {
            return unknown;
        }

        var machines = await fleet.LoadAsync(viewer, Actions.VirtualMachineRead, ct);
        var byTab = machines.ToLookup(Tab);
        var use = Fleet.UseByMachine(await fleet.GrantsSinceAsync(fleet.Now.AddDays(-7), ct));
        return WebPage.Render<JitAccessPage>(new
        {
            Viewer = viewer,
            Model = new JitAccessModel(current, Enum.GetValues<JitTab>().ToDictionary(t => t, t => byTab[t].Count()), byTab[current].ToList(), use),
        });
    }

    public static string Label(JitTab tab) => tab switch
    {
        JitTab.Configured => "Configured",
        JitTab.NotConfigured => "Not configured",
        JitTab.Unsupported => "Unsupported",
    };

    private static JitTab Tab(FleetMachine m) =>
        m.UnsupportedReason is not null ? JitTab.Unsupported : m.JitEnabled ? JitTab.Configured : JitTab.NotConfigured;
}
