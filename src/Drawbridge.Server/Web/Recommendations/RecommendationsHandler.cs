using Drawbridge.Authorization;
using Drawbridge.Posture;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.Recommendations;

public sealed record RecommendationsModel(PostureState State, IReadOnlyDictionary<PostureState, int> Counts, IReadOnlyList<FleetMachine> Machines);

internal static class RecommendationsHandler
{
    public static async Task<IResult> RenderAsync(HttpContext http, string? state, Fleet fleet, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var (tab, unknown) = WebPage.Tab(viewer, state, PostureState.Unhealthy);
        if (unknown is not null)
        {
            return unknown;
        }

        var machines = await fleet.LoadAsync(viewer, Actions.AssessmentRead, ct);
        var counts = Enum.GetValues<PostureState>().ToDictionary(s => s, s => machines.Count(m => m.Posture.State == s));
        return WebPage.Render<RecommendationsPage>(new
        {
            Viewer = viewer,
            Model = new RecommendationsModel(tab, counts, machines.Where(m => m.Posture.State == tab).ToList()),
        });
    }
}
