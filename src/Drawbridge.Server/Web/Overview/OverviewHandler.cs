using System.Globalization;
using Drawbridge.Authorization;
using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.Overview;

public sealed record Bar(string Label, int Value, string Description);

public sealed record OverviewModel(
    int Machines, int Healthy, int Unhealthy, int NotApplicable, int ActiveGrants, int GrantsLastWeek, int AgentsOffline,
    IReadOnlyList<Bar> GrantsPerDay, IReadOnlyList<Bar> GrantsPerMachine);

internal static class OverviewHandler
{
    public const int ChartDays = 14;
    public const int ChartMachines = 8;

    public static async Task<IResult> RenderAsync(HttpContext http, Fleet fleet, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var now = fleet.Now;
        var machines = await fleet.LoadAsync(viewer, Actions.VirtualMachineRead, ct);
        var assessed = machines.Where(m => viewer.Can(Actions.AssessmentRead, viewer.Caller.Machine(m.Machine))).ToList();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        // Grants last at most a day (the policy ceiling), so every live one started within the charted days.
        var grants = await fleet.GrantsSinceAsync(today.AddDays(1 - ChartDays), ct);
        var names = await fleet.MachinesAsync(grants.Select(g => g.MachineId), ct);

        var perDay = Enumerable.Range(0, ChartDays).Select(i => today.AddDays(i + 1 - ChartDays)).Select(day =>
        {
            var count = grants.Count(x => x.Requested >= day && x.Requested < day.AddDays(1));
            return new Bar(day.ToString("MMM d", CultureInfo.InvariantCulture), count, $"{day:yyyy-MM-dd}: {count} grant(s)");
        }).ToList();
        var lastWeek = grants.Where(x => x.Requested >= now.AddDays(-7)).ToList();
        var perMachine = lastWeek.GroupBy(x => x.MachineId)
            .Select(g => (Name: names.TryGetValue(g.Key, out var m) ? m.Name : "(removed)", Count: g.Count()))
            .OrderByDescending(x => x.Count).ThenBy(x => x.Name, StringComparer.Ordinal).Take(ChartMachines)
            .Select(x => new Bar(x.Name, x.Count, $"{x.Name}: {x.Count} grant(s)"))
            .ToList();

        var model = new OverviewModel(
            machines.Count,
            assessed.Count(m => m.Posture.State == PostureState.Healthy),
            assessed.Count(m => m.Posture.State == PostureState.Unhealthy),
            assessed.Count(m => m.Posture.State == PostureState.NotApplicable),
            grants.Count(x => Fleet.StateOf(x.Status, x.EndTimeUtc, now).IsLive()),
            lastWeek.Count,
            machines.Count(m => m.AgentStatus is "Offline" or "Error"),
            perDay,
            perMachine);
        return WebPage.Render<OverviewPage>(new { Viewer = viewer, Model = model });
    }
}
