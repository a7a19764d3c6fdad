using System.Security.Claims;
using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// The calling principal's permissions, loaded once per request: their role assignments, or for an agent the Agent
/// role at its own machine. Assignments are read on every request, so a removed role stops working at once.
/// </summary>
internal sealed class CallerPermissions(IHttpContextAccessor accessor, DrawbridgeDbContext db, InstallationContext installation)
{
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
        var rows = await db.RoleAssignments.AsNoTracking().Where(a => a.Principal == name).Select(a => new { a.Role, a.Scope }).ToListAsync(ct);
        var held = new List<HeldRole>(rows.Count);
        foreach (var row in rows)
        {
            if (BuiltInRoles.Find(row.Role) is { } role && AccessScope.TryParse(row.Scope, out var scope))
            {
                held.Add(new HeldRole(role, scope));
            }
        }

        return _loaded = new Permissions(held);
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
}
