using Drawbridge.Authorization;
using Drawbridge.Server.Http;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.JitAccess;

/// <summary>The JIT configuration page of one or more machines (Remediate and Edit open it), its save and remove.</summary>
internal static class JitConfigHandler
{
    public static async Task<IResult> RenderAsync(HttpContext http, string[]? vm, Fleet fleet, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var (machines, missing) = await ResolveAsync(viewer, fleet, vm ?? [], ct);
        if (missing is not null)
        {
            return missing;
        }

        var form = new JitConfigForm
        {
            Machines = [.. machines.Select(m => m.Key)],
            Ports = machines is [{ JitEnabled: true } one] ? JitConfigForm.FromPolicy(one.JitPorts) : JitConfigForm.DefaultPorts(),
        };
        return Page(viewer, machines, form);
    }

    public static async Task<IResult> SaveAsync(HttpContext http, Fleet fleet, PolicyEditor editor, CancellationToken ct)
    {
        var (posted, problem) = await FormBody.ReadAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var viewer = await Viewer.LoadAsync(http, ct);
        var form = JitConfigForm.Read(posted!);
        var (machines, missing) = await ResolveAsync(viewer, fleet, [.. form.Machines], ct);
        if (missing is not null)
        {
            return missing;
        }

        if (JitConfigForm.IsRowEdit(posted!))
        {
            return Page(viewer, machines, form);
        }

        if (form.ToArm() is not { } ports)
        {
            return Page(viewer, machines, form, StatusCodes.Status400BadRequest);
        }

        // Every machine must be able to take JIT before any is changed.
        foreach (var unsupported in machines.Where(m => m.UnsupportedReason is not null))
        {
            form.Errors.Add(FormErrors.Form, $"{unsupported.Machine.Name}: {unsupported.UnsupportedReason}");
        }

        if (form.Errors.Any)
        {
            return Page(viewer, machines, form, StatusCodes.Status400BadRequest);
        }

        var saved = new List<string>();
        foreach (var machine in machines)
        {
            var outcome = await editor.SetAsync(http, machine.Machine, ports, ct);
            if (outcome.Result is Problems.ProblemResult { Body.Status: StatusCodes.Status400BadRequest })
            {
                form.AddProblem(outcome.Result, outcome.MachineIndex);
                return Page(viewer, machines, form, StatusCodes.Status400BadRequest, saved);
            }

            if (outcome.Result is IStatusCodeHttpResult { StatusCode: >= 400 })
            {
                return WebPage.FromProblem(viewer, outcome.Result);
            }

            saved.Add(machine.Machine.Name);
        }

        return WebPage.SeeOther("/jit?tab=Configured");
    }

    public static async Task<IResult> RemoveAsync(HttpContext http, Fleet fleet, PolicyEditor editor, CancellationToken ct)
    {
        var (posted, problem) = await FormBody.ReadAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var viewer = await Viewer.LoadAsync(http, ct);
        var (machines, missing) = await ResolveAsync(viewer, fleet, [.. posted!["vm"].Select(v => v ?? "")], ct);
        if (missing is not null)
        {
            return missing;
        }

        foreach (var machine in machines)
        {
            var outcome = await editor.SetAsync(http, machine.Machine, null, ct);
            if (outcome.Result is IStatusCodeHttpResult { StatusCode: >= 400 })
            {
                return WebPage.FromProblem(viewer, outcome.Result);
            }
        }

        return WebPage.SeeOther("/jit?tab=NotConfigured");
    }

    private static IResult Page(Viewer viewer, List<FleetMachine> machines, JitConfigForm form, int status = StatusCodes.Status200OK, List<string>? saved = null) =>
        WebPage.Render<JitConfigPage>(new { Viewer = viewer, Machines = machines, Form = form, Saved = saved ?? [] }, status);

    /// <summary>The machines named "group/name" that the viewer can see; a 404 page if any is unknown or hidden.</summary>
    private static async Task<(List<FleetMachine> Machines, IResult? Missing)> ResolveAsync(Viewer viewer, Fleet fleet, string[] keys, CancellationToken ct)
    {
        if (keys.Length is 0 or > JitConfigForm.MaxMachines)
        {
            return ([], WebPage.Error(viewer, StatusCodes.Status400BadRequest, "Choose machines",
                $"Select between 1 and {JitConfigForm.MaxMachines} machines to configure JIT on."));
        }

        // Names no machine can have are simply not found; the rest are loaded in one go.
        var wanted = keys.Select(k => k.Split('/')).Where(p => p.Length == 2 && ArmIds.IsValidName(p[0]) && ArmIds.IsValidName(p[1])).Select(p => $"{p[0]}/{p[1]}").ToList();
        var found = (await fleet.LoadAsync(viewer, Actions.VirtualMachineRead, ct, wanted)).ToDictionary(m => m.Key, StringComparer.OrdinalIgnoreCase);
        var machines = new List<FleetMachine>();
        foreach (var key in keys.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!found.TryGetValue(key, out var machine))
            {
                return ([], WebPage.NotFound(viewer, $"The machine '{key}'"));
            }

            machines.Add(machine);
        }

        return (machines, null);
    }
}
