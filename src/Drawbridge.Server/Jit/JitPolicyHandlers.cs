using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Machines;
using Drawbridge.Server.Options;
using Drawbridge.Server.Posture;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Jit;

/// <summary>Create/replace, read, list and delete JIT policies (Microsoft.Security/locations/jitNetworkAccessPolicies).</summary>
internal sealed class JitPolicyHandlers(
    DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, MachineStateNotifier notifier,
    CallerPermissions caller, IOptions<DrawbridgeOptions> options, TimeProvider time, ArmPaging paging)
{
    public const int MaxMachinesPerPolicy = 1000;
    public const int MaxPortsPerMachine = 32;
    public const int RequestsShownPerPolicy = 100;

    // Compiled once (why: Storage/CompiledPerModel): every read of a policy, and every initiate, which reads the
    // policy without its ports and then only the ports of the machines it asks for. AsQueryable() after OrderBy selects
    // the sequence overload of CompileAsyncQuery, as in Agents/DesiredStateBuilder.
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, string, string, CancellationToken, Task<JitPolicy?>>> ByKey =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string rgKey, string loc, string key, CancellationToken ct) =>
            db.JitPolicies.AsNoTracking().Include(p => p.Ports).SingleOrDefault(p => p.ResourceGroup == rgKey && p.Location == loc && p.NameKey == key)));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, string, string, CancellationToken, Task<JitPolicy?>>> WithoutPortsByKey =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string rgKey, string loc, string key, CancellationToken ct) =>
            db.JitPolicies.AsNoTracking().SingleOrDefault(p => p.ResourceGroup == rgKey && p.Location == loc && p.NameKey == key)));

    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, Guid, IAsyncEnumerable<JitPolicyPort>>> PortsOfMachine =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid policyId, Guid machineId) =>
            db.JitPolicyPorts.AsNoTracking().Where(p => p.PolicyId == policyId && p.MachineId == machineId).OrderBy(p => p.Ordinal).AsQueryable()));

    public async Task<IResult> ListAsync(string? resourceGroup, string? location, CancellationToken ct)
    {
        var query = db.JitPolicies.AsNoTracking().Include(p => p.Ports).AsQueryable();
        if (resourceGroup is not null)
        {
            var rgKey = ArmIds.Key(resourceGroup);
            query = query.Where(p => p.ResourceGroup == rgKey);
        }

        if (location is not null)
        {
            var loc = location.ToLowerInvariant();
            query = query.Where(p => p.Location == loc);
        }

        var policies = await query.OrderBy(p => p.ResourceGroup).ThenBy(p => p.Location).ThenBy(p => p.NameKey).ToListAsync(ct);
        var permissions = await caller.GetAsync(ct);
        var result = new ArmList<JitNetworkAccessPolicy>();
        foreach (var policy in policies)
        {
            if (await ToArmAsync(policy, permissions, ct) is { } visible)
            {
                result.Value.Add(visible);
            }
        }

        return paging.Json(result.Value, DrawbridgeJson.Wire.ArmListJitNetworkAccessPolicy);
    }

    public async Task<IResult> GetAsync(string resourceGroup, string location, string name, CancellationToken ct)
    {
        var policy = await FindAsync(resourceGroup, location, name, ct);
        var visible = policy is null ? null : await ToArmAsync(policy, await caller.GetAsync(ct), ct);
        return visible is null ? NotFound(name) : TypedResults.Json(visible, DrawbridgeJson.Wire.JitNetworkAccessPolicy);
    }

    public async Task<IResult> PutAsync(HttpContext http, string resourceGroup, string location, string name, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct);
        return problem ?? await PutAsync(http, resourceGroup, location, name, body!, ct);
    }

    /// <summary>Creates or replaces the policy; the caller has been authorized to write it at its resource group.</summary>
    public async Task<IResult> PutAsync(HttpContext http, string resourceGroup, string location, string name, JitNetworkAccessPolicy body, CancellationToken ct)
    {
        var scope = ArmIds.JitPolicy(installation.SubscriptionId, resourceGroup, location, name);
        var errors = new ValidationErrors();
        if (!ArmIds.IsValidName(name))
        {
            errors.Add("name", $"'{name}' is not a valid policy name (letters, digits, '.', '_', '-'; at most 80)");
        }

        if (!ArmIds.IsValidName(location))
        {
            errors.Add("location", $"'{location}' is not a valid location");
        }

        var vms = body.Properties?.VirtualMachines;
        if (vms is null || vms.Count == 0)
        {
            errors.Add("properties.virtualMachines", "at least one virtual machine is required");
        }
        else if (vms.Count > MaxMachinesPerPolicy)
        {
            errors.Add("properties.virtualMachines", $"at most {MaxMachinesPerPolicy} virtual machines per policy");
        }

        if (body.Kind is not null && !string.Equals(body.Kind, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("kind", $"'{body.Kind}' is not supported (Basic)");
        }

        var rgKey = ArmIds.Key(resourceGroup);
        var existing = await FindAsync(resourceGroup, location, name, ct, tracked: true);
        var rows = errors.Any ? [] : await ValidateMachinesAsync(vms!, rgKey, existing?.Id, errors, ct);
        if (errors.Any)
        {
            await audit.RefuseAsync(http, Actions.JitPolicyWrite, scope, errors.Items[0].Field + ": " + errors.Items[0].Message, ct);
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var affected = new HashSet<Guid>(rows.Select(r => r.MachineId));
        if (existing is null)
        {
            existing = new JitPolicy
            {
                Id = Guid.NewGuid(),
                ResourceGroup = rgKey,
                Location = location.ToLowerInvariant(),
                Name = name,
                NameKey = ArmIds.Key(name),
                CreatedUtc = now,
            };
            db.JitPolicies.Add(existing);
        }
        else
        {
            affected.UnionWith(existing.Ports.Select(p => p.MachineId));
            db.JitPolicyPorts.RemoveRange(existing.Ports);
            await db.SaveChangesAsync(ct);
            existing.Ports.Clear();
        }

        existing.UpdatedUtc = now;
        existing.Ports.AddRange(rows);
        audit.Record(http, Actions.JitPolicyWrite, scope, AuditLog.Allowed, $"{rows.Count} port(s) on {rows.Select(r => r.MachineId).Distinct().Count()} machine(s)");
        await db.SaveChangesAsync(ct);
        var versions = await db.BumpAllAsync(affected, ct);

        await tx.CommitAsync(ct);
        notifier.Publish(versions);
        return TypedResults.Json((await ToArmAsync(existing, null, ct))!, DrawbridgeJson.Wire.JitNetworkAccessPolicy);
    }

    public async Task<IResult> DeleteAsync(HttpContext http, string resourceGroup, string location, string name, CancellationToken ct)
    {
        var policy = await FindAsync(resourceGroup, location, name, ct, tracked: true);
        if (policy is null)
        {
            // As in ARM, deleting what is not there succeeds with 204.
            return TypedResults.NoContent();
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var affected = policy.Ports.Select(p => p.MachineId).ToHashSet();
        db.JitPolicies.Remove(policy);
        audit.Record(http, Actions.JitPolicyDelete, ArmIds.JitPolicy(installation.SubscriptionId, resourceGroup, location, name), AuditLog.Allowed);
        await db.SaveChangesAsync(ct);
        var versions = await db.BumpAllAsync(affected, ct);

        await tx.CommitAsync(ct);
        notifier.Publish(versions);
        return TypedResults.Ok();
    }

    public Task<JitPolicy?> FindAsync(string resourceGroup, string location, string name, CancellationToken ct, bool tracked = false)
    {
        var (rgKey, loc, key) = (ArmIds.Key(resourceGroup), location.ToLowerInvariant(), ArmIds.Key(name));
        return tracked
            ? db.JitPolicies.Include(p => p.Ports).SingleOrDefaultAsync(p => p.ResourceGroup == rgKey && p.Location == loc && p.NameKey == key, ct)
            : ByKey.For(db)(db, rgKey, loc, key, ct);
    }

    /// <summary>
    /// The policy without its ports, for an initiate, which reads only the ports of its machines (<see cref="PortsOfAsync"/>):
    /// a policy may list hundreds of machines, and every initiate read all their ports.
    /// </summary>
    public Task<JitPolicy?> FindWithoutPortsAsync(string resourceGroup, string location, string name, CancellationToken ct) =>
        WithoutPortsByKey.For(db)(db, ArmIds.Key(resourceGroup), location.ToLowerInvariant(), ArmIds.Key(name), ct);

    /// <summary>The ports <paramref name="policyId"/> protects on one machine, in the order the policy lists them.</summary>
    public Task<List<JitPolicyPort>> PortsOfAsync(Guid policyId, Guid machineId, CancellationToken ct) =>
        PortsOfMachine.For(db)(db, policyId, machineId).ToListAsync(ct).AsTask();

    public static IResult NotFound(string name) =>
        Problems.NotFound($"The just-in-time network access policy '{name}' could not be found.");

    private async Task<List<JitPolicyPort>> ValidateMachinesAsync(
        List<JitNetworkAccessPolicyVirtualMachine> vms, string rgKey, Guid? policyId, ValidationErrors errors, CancellationToken ct)
    {
        var rows = new List<JitPolicyPort>();
        var seen = new HashSet<Guid>();
        var minimum = options.Value.Jit.MinimumRequestDurationValue;
        for (var i = 0; i < vms.Count; i++)
        {
            var path = $"properties.virtualMachines[{i}]";
            if (vms[i] is null)
            {
                errors.Add(path, "must be an object with id and ports");
                continue;
            }

            var machine = await ResolveMachineAsync(vms[i].Id, rgKey, $"{path}.id", errors, ct);
            if (machine is null)
            {
                continue;
            }

            if (!seen.Add(machine.Id))
            {
                errors.Add($"{path}.id", $"machine '{machine.Name}' is listed twice");
                continue;
            }

            var otherPolicy = await db.JitPolicyPorts.Where(p => p.MachineId == machine.Id && p.PolicyId != policyId)
                .Join(db.JitPolicies, p => p.PolicyId, p => p.Id, (_, p) => p.Name).FirstOrDefaultAsync(ct);
            if (otherPolicy is not null)
            {
                errors.Add($"{path}.id", $"machine '{machine.Name}' is already protected by policy '{otherPolicy}'; edit that policy instead");
                continue;
            }

            var ports = vms[i].Ports;
            if (ports is null || ports.Count == 0 || ports.Count > MaxPortsPerMachine)
            {
                errors.Add($"{path}.ports", $"between 1 and {MaxPortsPerMachine} ports are required");
                continue;
            }

            var numbers = new HashSet<int>();
            for (var j = 0; j < ports.Count; j++)
            {
                var p = ports[j];
                if (p is null)
                {
                    errors.Add($"{path}.ports[{j}]", "must be an object with number, protocol, allowed sources and maximum duration");
                    continue;
                }

                var rule = JitPortRule.TryCreate(p.Number, p.Protocol, p.AllowedSourceAddressPrefix, p.AllowedSourceAddressPrefixes,
                    p.MaxRequestAccessDuration, minimum, $"{path}.ports[{j}]", errors);
                if (rule is null)
                {
                    continue;
                }

                if (!numbers.Add(rule.Number))
                {
                    errors.Add($"{path}.ports[{j}].number", $"port {rule.Number} is listed twice");
                    continue;
                }

                rows.Add(new JitPolicyPort
                {
                    MachineId = machine.Id,
                    Ordinal = rows.Count,
                    Number = rule.Number,
                    Protocol = rule.Protocol,
                    AllowedSources = string.Join(',', rule.AllowedSources),
                    MaxDurationSeconds = (long)rule.MaxRequestAccessDuration.TotalSeconds,
                });
            }
        }

        return rows;
    }

    private async Task<Machine?> ResolveMachineAsync(string? id, string rgKey, string field, ValidationErrors errors, CancellationToken ct)
    {
        if (!ArmIds.TryParseVirtualMachine(id, out _, out var rg, out var vmName))
        {
            errors.Add(field, $"'{id}' is not a virtual machine id (/subscriptions/{{id}}/resourceGroups/{{rg}}/providers/Microsoft.Compute/virtualMachines/{{name}})");
            return null;
        }

        var rgOfVm = ArmIds.Key(rg);
        var machine = await db.FindByIdAsync(installation, id, ct);
        if (machine is null)
        {
            errors.Add(field, $"virtual machine '{vmName}' does not exist");
            return null;
        }

        if (PostureInputs.JitUnavailable(machine) is { } unavailable)
        {
            errors.Add(field, $"virtual machine '{vmName}' was {unavailable}");
            return null;
        }

        if (rgOfVm != rgKey)
        {
            errors.Add(field, $"virtual machine '{vmName}' is in resource group '{rg}', not in the policy's");
            return null;
        }

        return machine;
    }

    /// <summary>
    /// The policy as <paramref name="permissions"/> may see it (null: everything): whole for readers at its resource
    /// group or above; otherwise only the machines the caller reads policies at, and only requests they may see.
    /// Null when nothing of it is visible.
    /// </summary>
    private async Task<JitNetworkAccessPolicy?> ToArmAsync(JitPolicy policy, Permissions? permissions, CancellationToken ct)
    {
        var requests = await db.AccessRequests.AsNoTracking().Include(r => r.Grants)
            .Where(r => r.PolicyId == policy.Id)
            .OrderByDescending(r => r.StartTimeUtc).Take(RequestsShownPerPolicy)
            .ToListAsync(ct);
        var machineIds = policy.Ports.Select(p => p.MachineId).Concat(requests.SelectMany(r => r.Grants).Select(g => g.MachineId)).Distinct().ToList();
        var machines = await db.Machines.AsNoTracking().Where(m => machineIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        IEnumerable<JitPolicyPort> ports = policy.Ports;
        if (permissions is not null)
        {
            if (!permissions.Allows(Actions.JitPolicyRead, caller.ResourceGroup(policy.ResourceGroup)))
            {
                var visible = machines.Values.Where(m => permissions.Allows(Actions.JitPolicyRead, caller.Machine(m))).Select(m => m.Id).ToHashSet();
                ports = policy.Ports.Where(p => visible.Contains(p.MachineId)).ToList();
                if (!ports.Any())
                {
                    return null;
                }
            }

            var principal = caller.Principal;
            requests = requests.Where(r => RequestHandlers.IsVisible(r, principal, permissions, machines, caller)).ToList();
        }

        return JitMapping.ToArm(policy, ports, installation.SubscriptionId, machines, requests);
    }
}
