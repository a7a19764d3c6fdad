using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Shared;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Drawbridge.Server.Web.Machines;

public sealed record MachineModel(FleetMachine Machine, string ObservedAddress, bool CanRequest, bool CanConfigure, Guid Subscription, DateTimeOffset Now)
{
    /// <summary>Live and recently ended requests on the machine that the viewer may see.</summary>
    internal IReadOnlyList<AccessRequest> Requests { get; init; } = [];
}

/// <summary>A machine's page: what it is, how it is assessed, and the Connect panel to request access to it.</summary>
internal static class MachineHandler
{
    /// <summary>Ended requests stay in the panel this long, so a requester sees how theirs ended.</summary>
    public static readonly TimeSpan RecentlyEnded = TimeSpan.FromHours(1);

    public static async Task<IResult> RenderAsync(HttpContext http, string resourceGroup, string name, Fleet fleet, InstallationContext installation, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var machine = await FindAsync(viewer, fleet, resourceGroup, name, ct);
        return machine is null ? WebPage.NotFound(viewer, $"The machine '{name}'") : await PageAsync(viewer, http, machine, fleet, installation, new ConnectForm(), ct);
    }

    public static async Task<IResult> ConnectAsync(HttpContext http, string resourceGroup, string name, Fleet fleet, InitiateHandler initiate,
        InstallationContext installation, CancellationToken ct)
    {
        var (posted, problem) = await FormBody.ReadAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var viewer = await Viewer.LoadAsync(http, ct);
        var machine = await FindAsync(viewer, fleet, resourceGroup, name, ct);
        if (machine is null)
        {
            return WebPage.NotFound(viewer, $"The machine '{name}'");
        }

        var form = ConnectForm.Read(posted!);
        if (machine.Policy is not { } policy)
        {
            form.Errors.Add(FormErrors.Form, "This machine is not protected by JIT, so there is nothing to request.");
            return await PageAsync(viewer, http, machine, fleet, installation, form, ct, StatusCodes.Status400BadRequest);
        }

        var vmId = ArmIds.VirtualMachine(installation.SubscriptionId, machine.Machine.ResourceGroup, machine.Machine.Name);
        if (form.ToArm(vmId) is not { } body)
        {
            return await PageAsync(viewer, http, machine, fleet, installation, form, ct, StatusCodes.Status400BadRequest);
        }

        var result = await initiate.HandleAsync(http, policy.ResourceGroup, policy.Location, policy.Name, body, ct);
        if (result is Problems.ProblemResult { Body.Status: StatusCodes.Status400BadRequest })
        {
            form.AddProblem(result);
            return await PageAsync(viewer, http, machine, fleet, installation, form, ct, StatusCodes.Status400BadRequest);
        }

        return result is JsonHttpResult<JitNetworkAccessRequest> { Value.Id: { } id }
            ? WebPage.SeeOther($"{machine.Url}#request-{id[(id.LastIndexOf('/') + 1)..]}")
            : WebPage.FromProblem(viewer, result);
    }

    private static async Task<FleetMachine?> FindAsync(Viewer viewer, Fleet fleet, string resourceGroup, string name, CancellationToken ct) =>
        ArmIds.IsValidName(resourceGroup) && ArmIds.IsValidName(name)
            ? (await fleet.LoadAsync(viewer, Actions.VirtualMachineRead, ct, [$"{resourceGroup}/{name}"])).SingleOrDefault()
            : null;

    private static async Task<IResult> PageAsync(Viewer viewer, HttpContext http, FleetMachine machine, Fleet fleet, InstallationContext installation,
        ConnectForm form, CancellationToken ct, int status = StatusCodes.Status200OK)
    {
        var now = fleet.Now;
        // A grant lasts at most the policy ceiling, so one live or ended within the hour started no earlier than this.
        var since = now - JitDuration.PolicyCeiling - RecentlyEnded;
        var requests = (await fleet.RequestsSinceAsync(since, ct, machine.Machine.Id))
            .Where(r => r.Grants.Any(g => g.MachineId == machine.Machine.Id && (g.Status.IsLive() && g.EndTimeUtc > now || (g.EndedUtc ?? g.EndTimeUtc) > now - RecentlyEnded)))
            .ToList();
        var scope = viewer.Caller.Machine(machine.Machine);
        var model = new MachineModel(
            machine,
            ClientAddress.Observed(http).ToString(),
            viewer.Can(Actions.JitInitiate, scope),
            viewer.Can(Actions.JitPolicyWrite, viewer.Caller.ResourceGroup(machine.Machine.ResourceGroup)),
            installation.SubscriptionId,
            now) { Requests = requests };
        return WebPage.Render<MachinePage>(new { Viewer = viewer, Model = model, Form = form }, status);
    }
}
