using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Machines;

/// <summary>Machines in the Microsoft.Compute/virtualMachines shape (read-only; agents register them).</summary>
internal static class MachineEndpoints
{
    /// <summary>An agent that has not polled for this long is shown as offline.</summary>
    public static readonly TimeSpan OfflineAfter = TimeSpan.FromSeconds(90);

    public static IEndpointRouteBuilder MapMachineEndpoints(this IEndpointRouteBuilder app)
    {
        const string Provider = "providers/Microsoft.Compute/virtualMachines";
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("Machines").RequireApiVersion(ApiVersions.Compute);

        sub.MapGet(Provider, (DrawbridgeDbContext db, InstallationContext i, CallerPermissions caller, IOptions<DrawbridgeOptions> o, TimeProvider t, ArmPaging paging, CancellationToken ct)
            => ListAsync(db, i, caller, o.Value.Location, t, paging, null, ct)).RequireAction(Actions.VirtualMachineRead, ActionScope.Within);
        sub.MapGet($"resourceGroups/{{resourceGroupName}}/{Provider}", (string resourceGroupName, DrawbridgeDbContext db, InstallationContext i, CallerPermissions caller,
            IOptions<DrawbridgeOptions> o, TimeProvider t, ArmPaging paging, CancellationToken ct)
            => ListAsync(db, i, caller, o.Value.Location, t, paging, resourceGroupName, ct)).RequireAction(Actions.VirtualMachineRead, ActionScope.Within);
        sub.MapGet($"resourceGroups/{{resourceGroupName}}/{Provider}/{{vmName}}", (string resourceGroupName, string vmName, DrawbridgeDbContext db, InstallationContext i,
            IOptions<DrawbridgeOptions> o, TimeProvider t, CancellationToken ct)
            => GetAsync(db, i, o.Value.Location, t, resourceGroupName, vmName, ct)).RequireAction(Actions.VirtualMachineRead);
        return app;
    }

    private static async Task<IResult> ListAsync(DrawbridgeDbContext db, InstallationContext installation, CallerPermissions caller, string location, TimeProvider time,
        ArmPaging paging, string? resourceGroup, CancellationToken ct)
    {
        var query = db.Machines.AsNoTracking();
        if (resourceGroup is not null)
        {
            var key = ArmIds.Key(resourceGroup);
            query = query.Where(m => m.ResourceGroup == key);
        }

        var permissions = await caller.GetAsync(ct);
        var machines = (await query.OrderBy(m => m.ResourceGroup).ThenBy(m => m.NameKey).ToListAsync(ct))
            .Where(m => permissions.Allows(Actions.VirtualMachineRead, caller.Machine(m)))
            .ToList();
        var protectedIds = (await db.JitPolicyPorts.AsNoTracking().Select(p => p.MachineId).Distinct().ToListAsync(ct)).ToHashSet();
        return paging.Json(machines.Select(m => ToArm(m, installation, location, protectedIds.Contains(m.Id), time.GetUtcNow())).ToList(), DrawbridgeJson.Wire.ArmListVirtualMachine);
    }

    private static async Task<IResult> GetAsync(DrawbridgeDbContext db, InstallationContext installation, string location, TimeProvider time, string resourceGroup, string name, CancellationToken ct)
    {
        var rgKey = ArmIds.Key(resourceGroup);
        var key = ArmIds.Key(name);
        var machine = await db.Machines.AsNoTracking().SingleOrDefaultAsync(m => m.ResourceGroup == rgKey && m.NameKey == key, ct);
        if (machine is null)
        {
            return Problems.NotFound($"The virtual machine '{name}' could not be found.");
        }

        var jit = await db.JitPolicyPorts.AnyAsync(p => p.MachineId == machine.Id, ct);
        return TypedResults.Json(ToArm(machine, installation, location, jit, time.GetUtcNow()), DrawbridgeJson.Wire.VirtualMachine);
    }

    /// <summary>Online, Offline or Error for an enrolled agent; null when no agent enforces on the machine.</summary>
    public static string? AgentStatus(Machine m, DateTimeOffset now) =>
        m.AgentCredentialHash is null ? null : m.AgentLastError is not null ? "Error" : m.AgentLastSeenUtc > now - OfflineAfter ? "Online" : "Offline";

    private static VirtualMachine ToArm(Machine m, InstallationContext installation, string location, bool jitEnabled, DateTimeOffset now) => new()
    {
        Id = ArmIds.VirtualMachine(installation.SubscriptionId, m.ResourceGroup, m.Name),
        Name = m.Name,
        Type = ArmIds.VirtualMachineType,
        Location = location,
        Properties = new VirtualMachineProperties
        {
            VmId = m.Id.ToString(),
            ProvisioningState = "Succeeded",
            OsProfile = new VirtualMachineOsProfile { ComputerName = m.Hostname ?? m.Name, OsType = m.OsType },
            Addresses = m.Addresses.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(),
            JitEnabled = jitEnabled,
            Agent = m.AgentCredentialHash is null ? null : new MachineAgentStatus
            {
                Status = AgentStatus(m, now),
                LastSeenUtc = m.AgentLastSeenUtc,
                DesiredVersion = m.StateVersion,
                AppliedVersion = m.AppliedVersion,
                LastError = m.AgentLastError,
            },
        },
    };
}
