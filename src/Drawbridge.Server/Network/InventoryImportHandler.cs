using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Net;
using Drawbridge.Posture;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Network;

/// <summary>
/// POST /api/v1/inventory/import: machines and groups read from a cloud inventory, written all at once or not at all.
/// Importing again replaces what the same names held; an enrolled machine or a group made in Drawbridge is never
/// replaced by an import.
/// </summary>
internal sealed class InventoryImportHandler(DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, TimeProvider time)
{
    public const long MaxBytes = 32 * 1024 * 1024;
    public const int MaxItems = 20_000;

    public async Task<IResult> ImportAsync(HttpContext http, CancellationToken ct)
    {
        var scope = $"/subscriptions/{installation.SubscriptionId}";
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.InventoryImport, ct, MaxBytes);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var source = body!.Source?.ToUpperInvariant() switch { "AZURE" => "Azure", "AWS" => "AWS", _ => null };
        if (source is null)
        {
            errors.Add("source", $"'{body.Source}' is not Azure or AWS");
        }

        var groups = ValidateGroups(body.Groups ?? [], errors);
        var machines = ValidateMachines(body.Machines ?? [], groups, errors);
        if (errors.Any)
        {
            await audit.RefuseAsync(http, Actions.InventoryImport, scope, errors.Items[0].Field + ": " + errors.Items[0].Message, ct);
            return Problems.Validation(errors);
        }

        var rgKeys = groups.Keys.Select(k => k.Rg).Concat(machines.Select(m => m.Key.Rg)).ToHashSet();
        var machineKeys = machines.Select(m => m.Key).ToHashSet();
        var existingMachines = (await db.Machines.Where(m => rgKeys.Contains(m.ResourceGroup)).ToListAsync(ct))
            .Where(m => machineKeys.Contains((m.ResourceGroup, m.NameKey))).ToDictionary(m => (m.ResourceGroup, m.NameKey));
        var existingGroups = (await db.SecurityGroups.Include(g => g.Rules).Where(g => rgKeys.Contains(g.ResourceGroup)).ToListAsync(ct))
            .Where(g => groups.ContainsKey((g.ResourceGroup, g.NameKey))).ToDictionary(g => (g.ResourceGroup, g.NameKey));
        if (existingMachines.Values.FirstOrDefault(m => m.ImportedFrom is null) is { } enrolled)
        {
            await audit.RefuseAsync(http, Actions.InventoryImport, scope, $"machine {enrolled.Name} is enrolled", ct);
            return Problems.Conflict($"Machine '{enrolled.Name}' in resource group '{enrolled.ResourceGroup}' is enrolled with an agent; an import cannot replace it. Nothing was imported.");
        }

        if (existingGroups.Values.FirstOrDefault(g => g.ImportedFrom is null) is { } own)
        {
            await audit.RefuseAsync(http, Actions.InventoryImport, scope, $"group {own.Name} was made in Drawbridge", ct);
            return Problems.Conflict($"Network security group '{own.Name}' in resource group '{own.ResourceGroup}' was made in Drawbridge; an import cannot replace it. Nothing was imported.");
        }

        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var knownGroups = await db.ResourceGroups.Where(r => rgKeys.Contains(r.NameKey)).Select(r => r.NameKey).ToListAsync(ct);
        db.ResourceGroups.AddRange(rgKeys.Except(knownGroups).Select(rg => new ResourceGroup { Name = rg, NameKey = rg }));

        var groupIds = new Dictionary<(string Rg, string Name), Guid>();
        foreach (var ((rg, key), (arm, kind, rules)) in groups)
        {
            if (!existingGroups.TryGetValue((rg, key), out var group))
            {
                group = new SecurityGroup { Id = Guid.NewGuid(), ResourceGroup = rg, Name = arm.Name!, NameKey = key, Location = "", CreatedUtc = now };
                db.SecurityGroups.Add(group);
            }

            db.SecurityGroupRules.RemoveRange(group.Rules);
            group.Rules = rules;
            group.Name = arm.Name!;
            group.Location = (arm.Location ?? "local").ToLowerInvariant();
            group.Kind = kind;
            group.ImportedFrom = source;
            group.UpdatedUtc = now;
            groupIds[(rg, key)] = group.Id;
        }

        var replaced = existingMachines.Values.Select(m => m.Id).ToList();
        await db.SecurityGroupAttachments.Where(a => replaced.Contains(a.MachineId)).ExecuteDeleteAsync(ct);
        foreach (var (key, arm, attachments) in machines)
        {
            if (!existingMachines.TryGetValue(key, out var machine))
            {
                machine = new Machine { Id = Guid.NewGuid(), ResourceGroup = key.Rg, Name = arm.Name!, NameKey = key.Name, CreatedUtc = now };
                db.Machines.Add(machine);
            }

            machine.Name = arm.Name!;
            machine.OsType = string.Equals(arm.OsType, "Windows", StringComparison.OrdinalIgnoreCase) ? "Windows" : "Linux";
            machine.Addresses = string.Join(',', arm.Addresses ?? []);
            machine.ImportedFrom = source;
            db.SecurityGroupAttachments.AddRange(attachments.Select(a => new SecurityGroupAttachment { MachineId = machine.Id, GroupId = groupIds[(a.Rg, a.Name)], Layer = a.Layer }));
        }

        var result = new InventoryImportResult
        {
            Machines = machines.Count,
            Groups = groups.Count,
            Attachments = machines.Sum(m => m.Attachments.Count),
            Notes = body.Notes?.Take(1000).ToList() ?? [],
        };
        audit.Record(http, Actions.InventoryImport, scope, AuditLog.Allowed, $"{source}: {result.Machines} machine(s), {result.Groups} group(s), {result.Attachments} attachment(s)");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Json(result, DrawbridgeJson.Wire.InventoryImportResult);
    }

    private static Dictionary<(string Rg, string Name), (ImportedGroup Arm, NsgKind Kind, List<SecurityGroupRule> Rules)> ValidateGroups(
        List<ImportedGroup> groups, ValidationErrors errors)
    {
        var valid = new Dictionary<(string Rg, string Name), (ImportedGroup, NsgKind, List<SecurityGroupRule>)>();
        if (groups.Count > MaxItems)
        {
            errors.Add("groups", $"at most {MaxItems} groups per import");
            return valid;
        }

        for (var i = 0; i < groups.Count; i++)
        {
            var path = $"groups[{i}]";
            if (groups[i] is not { } group)
            {
                errors.Add(path, "must be an object");
                continue;
            }

            if (!ValidNames(group.ResourceGroup, group.Name, path, errors))
            {
                continue;
            }

            if (group.Location is { } location && !ArmIds.IsValidName(location))
            {
                errors.Add($"{path}.location", $"'{location}' is not a valid location");
            }

            if (!Enum.TryParse<NsgKind>(group.Kind, ignoreCase: true, out var kind))
            {
                errors.Add($"{path}.kind", $"'{group.Kind}' is not Azure or AwsSecurityGroup");
            }

            var rules = SecurityGroupHandlers.ParseRules(group.SecurityRules ?? [], errors, $"{path}.securityRules");
            if (!valid.TryAdd((ArmIds.Key(group.ResourceGroup!), ArmIds.Key(group.Name!)), (group, kind, rules)))
            {
                errors.Add($"{path}.name", $"group '{group.Name}' is listed twice");
            }
        }

        return valid;
    }

    private static List<((string Rg, string Name) Key, ImportedMachine Arm, List<(string Rg, string Name, int Layer)> Attachments)> ValidateMachines(
        List<ImportedMachine> machines, Dictionary<(string Rg, string Name), (ImportedGroup, NsgKind, List<SecurityGroupRule>)> groups, ValidationErrors errors)
    {
        var valid = new List<((string, string), ImportedMachine, List<(string, string, int)>)>();
        if (machines.Count > MaxItems)
        {
            errors.Add("machines", $"at most {MaxItems} machines per import");
            return valid;
        }

        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < machines.Count; i++)
        {
            var path = $"machines[{i}]";
            if (machines[i] is not { } machine)
            {
                errors.Add(path, "must be an object");
                continue;
            }

            if (!ValidNames(machine.ResourceGroup, machine.Name, path, errors))
            {
                continue;
            }

            var key = (ArmIds.Key(machine.ResourceGroup!), ArmIds.Key(machine.Name!));
            if (!seen.Add(key))
            {
                errors.Add($"{path}.name", $"machine '{machine.Name}' is listed twice");
            }

            if (machine.Addresses?.Count > Agents.AgentEndpoints.MaxAddresses)
            {
                errors.Add($"{path}.addresses", $"at most {Agents.AgentEndpoints.MaxAddresses} addresses");
            }

            foreach (var (address, j) in (machine.Addresses ?? []).Select((a, j) => (a, j)).Where(x => !IpPrefix.TryParse(x.a, out _, out _)))
            {
                errors.Add($"{path}.addresses[{j}]", $"'{address}' is not an IP address");
            }

            var attachments = new List<(string, string, int)>();
            var list = machine.Groups ?? [];
            for (var j = 0; j < list.Count; j++)
            {
                var a = list[j];
                var group = (ArmIds.Key(a?.ResourceGroup ?? ""), ArmIds.Key(a?.Name ?? ""));
                if (a is null || !groups.ContainsKey(group))
                {
                    errors.Add($"{path}.groups[{j}]", $"group '{a?.Name}' in resource group '{a?.ResourceGroup}' is not in this import");
                }
                else if (a.Layer is < 0 or > 1)
                {
                    errors.Add($"{path}.groups[{j}].layer", "must be 0 (subnet) or 1 (network interface)");
                }
                else
                {
                    attachments.Add((group.Item1, group.Item2, a.Layer));
                }
            }

            valid.Add((key, machine, attachments));
        }

        return valid;
    }

    private static bool ValidNames(string? resourceGroup, string? name, string path, ValidationErrors errors)
    {
        var ok = true;
        if (!ArmIds.IsValidName(resourceGroup))
        {
            errors.Add($"{path}.resourceGroup", $"'{resourceGroup}' is not a valid resource group name");
            ok = false;
        }

        if (!ArmIds.IsValidName(name))
        {
            errors.Add($"{path}.name", $"'{name}' is not a valid name (letters, digits, '.', '_', '-'; at most 80)");
            ok = false;
        }

        return ok;
    }
}
