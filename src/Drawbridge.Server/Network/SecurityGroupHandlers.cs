using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Machines;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Network;

/// <summary>Create/replace, read, list and delete network security groups (Microsoft.Network/networkSecurityGroups).</summary>
internal sealed class SecurityGroupHandlers(
    DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, MachineStateNotifier notifier,
    CallerPermissions caller, IOptions<DrawbridgeOptions> options, TimeProvider time, ArmPaging paging)
{
    public const int MaxMachinesPerGroup = 1000;

    /// <summary>A group attached through the API sits where a NIC's group would: after an (imported) subnet group.</summary>
    public const int DirectLayer = 1;

    public async Task<IResult> ListAsync(string? resourceGroup, CancellationToken ct)
    {
        var query = Groups(tracked: false);
        if (resourceGroup is not null)
        {
            var rgKey = ArmIds.Key(resourceGroup);
            query = query.Where(g => g.ResourceGroup == rgKey);
        }

        var permissions = await caller.GetAsync(ct);
        var all = await query.OrderBy(g => g.ResourceGroup).ThenBy(g => g.NameKey).ToListAsync(ct);
        var machines = await AttachedMachinesAsync(all, ct);
        var groups = all.Where(g => IsVisible(g, permissions, machines)).ToList();
        return paging.Json(groups.Select(g => SecurityGroupMapping.ToArm(g, installation.SubscriptionId, g.Attachments.Select(a => machines[a.MachineId]))).ToList(),
            DrawbridgeJson.Wire.ArmListNetworkSecurityGroupResource);
    }

    public async Task<IResult> GetAsync(string resourceGroup, string name, CancellationToken ct)
    {
        var group = await FindAsync(resourceGroup, name, tracked: false, ct);
        var machines = group is null ? [] : await AttachedMachinesAsync([group], ct);
        return group is null || !IsVisible(group, await caller.GetAsync(ct), machines) ? NotFound(name) : await ResultAsync(group, ct);
    }

    /// <summary>A group is read at its resource group, or by whoever reads groups at a machine it applies to.</summary>
    private bool IsVisible(SecurityGroup group, Permissions permissions, Dictionary<Guid, Machine> machines) =>
        permissions.Allows(Actions.NsgRead, caller.ResourceGroup(group.ResourceGroup))
        || group.Attachments.Any(a => permissions.Allows(Actions.NsgRead, caller.Machine(machines[a.MachineId])));

    public async Task<IResult> PutAsync(HttpContext http, string resourceGroup, string name, CancellationToken ct)
    {
        var scope = ArmIds.NetworkSecurityGroup(installation.SubscriptionId, resourceGroup, name);
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct);
        if (problem is not null)
        {
            return problem;
        }

        var existing = await FindAsync(resourceGroup, name, tracked: true, ct);
        if (existing?.ImportedFrom is { } source)
        {
            await audit.RefuseAsync(http, Actions.NsgWrite, scope, $"imported from {source}", ct);
            return Problems.Conflict($"Network security group '{name}' was imported from {source}; change it there and import again.");
        }

        var errors = new ValidationErrors();
        if (!ArmIds.IsValidName(name))
        {
            errors.Add("name", $"'{name}' is not a valid group name (letters, digits, '.', '_', '-'; at most 80)");
        }

        var location = body!.Location ?? existing?.Location ?? options.Value.Location;
        if (!ArmIds.IsValidName(location))
        {
            errors.Add("location", $"'{location}' is not a valid location");
        }

        var rules = ParseRules(body.Properties?.SecurityRules ?? [], errors);
        List<Machine>? attach = null;
        if (body.Properties?.VirtualMachines is { } vms)
        {
            var (machines, refusal) = await ResolveMachinesAsync(vms, errors, ct);
            if (refusal is not null)
            {
                return refusal;
            }

            attach = machines;
        }

        if (errors.Any)
        {
            await audit.RefuseAsync(http, Actions.NsgWrite, scope, errors.Items[0].Field + ": " + errors.Items[0].Message, ct);
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (existing is null)
        {
            existing = new SecurityGroup
            {
                Id = Guid.NewGuid(),
                ResourceGroup = ArmIds.Key(resourceGroup),
                Name = name,
                NameKey = ArmIds.Key(name),
                Location = location.ToLowerInvariant(),
                CreatedUtc = now,
            };
            db.SecurityGroups.Add(existing);
        }
        else
        {
            db.SecurityGroupRules.RemoveRange(existing.Rules);
            existing.Rules.Clear();
        }

        // Every machine the group applied to before or applies to now gets a new state version.
        var affected = existing.Attachments.Select(a => a.MachineId).ToHashSet();
        if (attach is not null)
        {
            var attaching = attach.Select(m => m.Id).ToHashSet();
            var attached = existing.Attachments.Select(a => a.MachineId).ToHashSet();
            db.SecurityGroupAttachments.RemoveRange(existing.Attachments.Where(a => !attaching.Contains(a.MachineId)));
            foreach (var machine in attach.Where(m => !attached.Contains(m.Id)))
            {
                existing.Attachments.Add(new SecurityGroupAttachment { MachineId = machine.Id, Layer = DirectLayer });
            }

            affected.UnionWith(attach.Select(m => m.Id));
        }

        existing.Location = location.ToLowerInvariant();
        existing.UpdatedUtc = now;
        existing.Rules.AddRange(rules);
        audit.Record(http, Actions.NsgWrite, scope, AuditLog.Allowed, $"{rules.Count} rule(s), attached to {existing.Attachments.Count} machine(s)");
        await db.SaveChangesAsync(ct);
        var versions = await db.BumpAllAsync(affected, ct);

        await tx.CommitAsync(ct);
        notifier.Publish(versions);
        return await ResultAsync(existing, ct);
    }

    public async Task<IResult> DeleteAsync(HttpContext http, string resourceGroup, string name, CancellationToken ct)
    {
        var group = await FindAsync(resourceGroup, name, tracked: true, ct);
        if (group is null)
        {
            // As in ARM, deleting what is not there succeeds.
            return TypedResults.NoContent();
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var affected = group.Attachments.Select(a => a.MachineId).ToHashSet();
        db.SecurityGroups.Remove(group);
        audit.Record(http, Actions.NsgDelete, ArmIds.NetworkSecurityGroup(installation.SubscriptionId, resourceGroup, name), AuditLog.Allowed,
            $"detached from {affected.Count} machine(s)");
        await db.SaveChangesAsync(ct);
        var versions = await db.BumpAllAsync(affected, ct);

        await tx.CommitAsync(ct);
        notifier.Publish(versions);
        return TypedResults.Ok();
    }

    /// <summary>The rules, each valid, with names and (per direction) priorities unique as Azure requires.</summary>
    public static List<SecurityGroupRule> ParseRules(List<SecurityRuleResource> arm, ValidationErrors errors, string field = "properties.securityRules")
    {
        if (arm.Count > SecurityGroupMapping.MaxRulesPerGroup)
        {
            errors.Add(field, $"at most {SecurityGroupMapping.MaxRulesPerGroup} rules per group");
            return [];
        }

        var rules = new List<SecurityGroupRule>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var priorities = new HashSet<(Drawbridge.Posture.RuleDirection, int)>();
        for (var i = 0; i < arm.Count; i++)
        {
            var path = $"{field}[{i}]";
            if (SecurityGroupMapping.TryParseRule(arm[i], i, path, errors) is not { } rule)
            {
                continue;
            }

            if (!names.Add(rule.Name))
            {
                errors.Add($"{path}.name", $"rule '{rule.Name}' is listed twice");
            }
            else if (!priorities.Add((rule.Direction, rule.Priority)))
            {
                errors.Add($"{path}.properties.priority", $"another {rule.Direction.ToString().ToLowerInvariant()} rule already has priority {rule.Priority}");
            }
            else
            {
                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>
    /// The machines to attach to. One the caller cannot see reads as missing; one they see but may not change the
    /// network rules of refuses the whole request with 403.
    /// </summary>
    private async Task<(List<Machine> Machines, IResult? Refusal)> ResolveMachinesAsync(List<SubResource> vms, ValidationErrors errors, CancellationToken ct)
    {
        var machines = new List<Machine>();
        if (vms.Count > MaxMachinesPerGroup)
        {
            errors.Add("properties.virtualMachines", $"at most {MaxMachinesPerGroup} machines per group");
            return (machines, null);
        }

        var permissions = await caller.GetAsync(ct);
        var found = await db.FindByIdsAsync(installation, vms.Select(vm => vm?.Id), ct);
        var listed = new HashSet<Guid>();
        for (var i = 0; i < vms.Count; i++)
        {
            var field = $"properties.virtualMachines[{i}].id";
            if (!ArmIds.TryParseVirtualMachine(vms[i]?.Id, out _, out _, out var vmName))
            {
                errors.Add(field, $"'{vms[i]?.Id}' is not a virtual machine id (/subscriptions/{{id}}/resourceGroups/{{rg}}/providers/Microsoft.Compute/virtualMachines/{{name}})");
                continue;
            }

            var machine = found.GetValueOrDefault(vms[i].Id!);
            var decision = machine is null ? AccessDecision.NotFound : permissions.Decide(Actions.NsgWrite, caller.Machine(machine));
            if (decision == AccessDecision.Forbidden)
            {
                return (machines, await caller.RefuseAsync(Actions.NsgWrite, ArmIds.VirtualMachine(installation.SubscriptionId, machine!.ResourceGroup, machine.Name),
                    decision, "attaching a network security group to a machine needs the write action at that machine"));
            }

            if (decision == AccessDecision.NotFound)
            {
                errors.Add(field, $"virtual machine '{vmName}' does not exist");
            }
            else if (machine!.ImportedFrom is { } source)
            {
                errors.Add(field, $"virtual machine '{vmName}' was imported from {source}; its groups come from the import");
            }
            else if (!listed.Add(machine.Id))
            {
                errors.Add(field, $"virtual machine '{vmName}' is listed twice");
            }
            else
            {
                machines.Add(machine);
            }
        }

        return (machines, null);
    }

    private IQueryable<SecurityGroup> Groups(bool tracked) =>
        (tracked ? db.SecurityGroups : db.SecurityGroups.AsNoTracking()).Include(g => g.Rules).Include(g => g.Attachments).AsSplitQuery();

    private Task<SecurityGroup?> FindAsync(string resourceGroup, string name, bool tracked, CancellationToken ct)
    {
        var rgKey = ArmIds.Key(resourceGroup);
        var key = ArmIds.Key(name);
        return Groups(tracked).SingleOrDefaultAsync(g => g.ResourceGroup == rgKey && g.NameKey == key, ct);
    }

    private async Task<Dictionary<Guid, Machine>> AttachedMachinesAsync(IEnumerable<SecurityGroup> groups, CancellationToken ct)
    {
        var ids = groups.SelectMany(g => g.Attachments).Select(a => a.MachineId).Distinct().ToList();
        return await db.Machines.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
    }

    private async Task<IResult> ResultAsync(SecurityGroup group, CancellationToken ct)
    {
        var machines = await AttachedMachinesAsync([group], ct);
        return TypedResults.Json(SecurityGroupMapping.ToArm(group, installation.SubscriptionId, group.Attachments.Select(a => machines[a.MachineId])),
            DrawbridgeJson.Wire.NetworkSecurityGroupResource);
    }

    public static IResult NotFound(string name) =>
        Problems.NotFound($"The network security group '{name}' could not be found.");
}
