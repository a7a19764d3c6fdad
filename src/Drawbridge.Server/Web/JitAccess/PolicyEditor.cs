using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Web.JitAccess;

/// <summary>
/// Sets or removes one machine's ports in its JIT policy, as the CLI's <c>jit enable|disable</c> do: the machine's
/// current policy, or its resource group's "default" one, rewritten through the API's own PUT (or DELETE when the
/// machine was its last), so validation, audit and agent notification are the same as for any client.
/// </summary>
internal sealed class PolicyEditor(
    DrawbridgeDbContext db, JitPolicyHandlers policies, InstallationContext installation, CallerPermissions caller, IOptions<DrawbridgeOptions> options)
{
    public const string DefaultPolicyName = "default";

    /// <summary>The index the machine has in the policy body sent (its entry is always last), to place errors about it.</summary>
    public sealed record Outcome(IResult Result, int MachineIndex);

    /// <param name="ports">The machine's new ports, or null to take it out of JIT.</param>
    public async Task<Outcome> SetAsync(HttpContext http, Machine machine, List<JitNetworkAccessPortRule>? ports, CancellationToken ct)
    {
        var current = await db.JitPolicyPorts.Where(p => p.MachineId == machine.Id).Join(db.JitPolicies, p => p.PolicyId, p => p.Id, (_, p) => p)
            .FirstOrDefaultAsync(ct);
        var (location, name) = current is null ? (options.Value.Location, DefaultPolicyName) : (current.Location, current.Name);
        var scope = caller.ResourceGroup(machine.ResourceGroup);
        var permissions = await caller.GetAsync(ct);
        if (!permissions.Allows(Actions.JitPolicyWrite, scope))
        {
            return new(await caller.RefuseAsync(Actions.JitPolicyWrite, scope.Key, permissions.Decide(Actions.JitPolicyWrite, scope)), 0);
        }

        var policy = await policies.FindAsync(machine.ResourceGroup, location, name, ct);
        var others = policy?.Ports.Where(p => p.MachineId != machine.Id).ToList() ?? [];
        var body = await ToArmAsync(others, ct);
        if (ports is not null)
        {
            body.Properties!.VirtualMachines!.Add(new JitNetworkAccessPolicyVirtualMachine
            {
                Id = ArmIds.VirtualMachine(installation.SubscriptionId, machine.ResourceGroup, machine.Name),
                Ports = ports,
            });
        }
        else if (others.Count == 0)
        {
            if (policy is null)
            {
                return new(TypedResults.NoContent(), 0);
            }

            if (!permissions.Allows(Actions.JitPolicyDelete, scope))
            {
                return new(await caller.RefuseAsync(Actions.JitPolicyDelete, scope.Key, permissions.Decide(Actions.JitPolicyDelete, scope)), 0);
            }

            return new(await policies.DeleteAsync(http, machine.ResourceGroup, location, name, ct), 0);
        }

        return new(await policies.PutAsync(http, machine.ResourceGroup, location, name, body, ct), body.Properties!.VirtualMachines!.Count - 1);
    }

    private async Task<JitNetworkAccessPolicy> ToArmAsync(List<JitPolicyPort> ports, CancellationToken ct)
    {
        var ids = ports.Select(p => p.MachineId).Distinct().ToList();
        var machines = await db.Machines.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        return new JitNetworkAccessPolicy
        {
            Kind = "Basic",
            Properties = new JitNetworkAccessPolicyProperties
            {
                VirtualMachines = ports.OrderBy(p => p.Ordinal).GroupBy(p => p.MachineId).Select(g => new JitNetworkAccessPolicyVirtualMachine
                {
                    Id = ArmIds.VirtualMachine(installation.SubscriptionId, machines[g.Key].ResourceGroup, machines[g.Key].Name),
                    Ports = g.Select(JitMapping.ToArm).ToList(),
                }).ToList(),
            },
        };
    }
}
