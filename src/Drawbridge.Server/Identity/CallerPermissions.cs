using System.Security.Claims;
using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// The calling principal's permissions, loaded once per request: their role assignments, or for an agent the Agent
/// role at its own machine. Assignments are read on every request, so a removed role stops working at once. The
/// database and the audit log are taken from the request's services only when needed: an agent's long-poll needs
/// neither, and would otherwise hold a database context through its wait.
/// </summary>
internal sealed class CallerPermissions(IHttpContextAccessor accessor, IServiceProvider services, InstallationContext installation)
{
    // Compiled once: read on every API call (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, IAsyncEnumerable<AssignmentRow>>> AssignmentsOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string principal) =>
            db.RoleAssignments.AsNoTracking().Where(a => a.Principal == principal).Select(a => new AssignmentRow(a.Role, a.Scope))));

    private Permissions? _loaded;

    public async ValueTask<Permissions> GetAsync(CancellationToken ct)
    {
        if (_loaded is not null)
        {
            return _loaded;
        }

        var user = accessor.HttpContext?.User;
        if (user?.Identity?.IsAuthenticated != true)
        {
            return _loaded = Permissions.None;
        }

        if (AgentMachine(user) is { } machine)
        {
            return _loaded = new Permissions([new HeldRole(BuiltInRoles.Agent, machine)]);
        }

        var name = user.Name();
        var held = new List<HeldRole>();
        var db = services.GetRequiredService<DrawbridgeDbContext>();
        await foreach (var row in AssignmentsOf.For(db)(db, name).WithCancellation(ct))
        {
            if (BuiltInRoles.Find(row.Role) is { } role && AccessScope.TryParse(row.Scope, out var scope))
            {
                held.Add(new HeldRole(role, scope));
            }
        }

        return _loaded = new Permissions(held);
    }

    /// <summary>
    /// Refuses the caller an action: audited with the reason, then a 403, or a 404 when they may not even know the
    /// resource exists. The one place every authorization refusal goes through, in the filter and in handlers.
    /// </summary>
    /// <param name="notFound">The 404 a missing record gets, so a hidden one cannot be told apart from it.</param>
    public async Task<IResult> RefuseAsync(string action, string scope, AccessDecision decision, string? reason = null, IResult? notFound = null)
    {
        var http = accessor.HttpContext!;
        reason ??= decision == AccessDecision.NotFound ? "no role at, above or below this scope" : "no role granting this action at this scope";
        await services.GetRequiredService<AuditLog>().RefuseAsync(http, action, scope, reason, http.RequestAborted);
        return decision == AccessDecision.NotFound
            ? notFound ?? Problems.NotFound($"The resource '{http.Request.Path}' could not be found.")
            : Problems.Forbidden($"You may not perform '{action}' here.");
    }

    public string Principal => accessor.HttpContext?.User.Name() ?? "anonymous";

    public AccessScope Subscription => AccessScope.Subscription(installation.SubscriptionId);

    public AccessScope ResourceGroup(string resourceGroup) => AccessScope.ResourceGroup(installation.SubscriptionId, resourceGroup);

    public AccessScope Machine(Machine machine) => Machine(machine.ResourceGroup, machine.Name);

    public AccessScope Machine(string resourceGroup, string name) => AccessScope.VirtualMachine(installation.SubscriptionId, resourceGroup, name);

    /// <summary>The machine scope of an agent credential, from the claims it authenticated with.</summary>
    public AccessScope? AgentMachine(ClaimsPrincipal user) =>
        user.FindFirstValue(DrawbridgeClaims.MachineResourceGroup) is { } rg && user.FindFirstValue(DrawbridgeClaims.MachineName) is { } name
            ? AccessScope.VirtualMachine(installation.SubscriptionId, rg, name)
            : null;

    private sealed record AssignmentRow(string Role, string Scope);
}
