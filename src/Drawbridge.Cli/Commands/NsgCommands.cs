using System.CommandLine;
using System.Globalization;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>nsg list|show|create|delete|attach|detach and nsg rule add|remove: network security groups.</summary>
internal static class NsgCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Network security group name" };

        var list = new Command("list", "List network security groups") { Cli.ResourceGroup };
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var groups = await api.GetAsync(api.SecurityGroupsPath(), DrawbridgeJson.Wire.ArmListNetworkSecurityGroupResource, ct);
            printer.Show(groups, DrawbridgeJson.Indented.ArmListNetworkSecurityGroupResource, () => printer.Table(["NAME", "RULES", "MACHINES"], groups.Value.Select(g => new[]
            {
                g.Name ?? "",
                (g.Properties?.SecurityRules?.Count ?? 0).ToString(CultureInfo.InvariantCulture),
                string.Join(", ", g.Properties?.VirtualMachines?.Select(v => Printer.Name(v.Id)) ?? []),
            })));
            return 0;
        });

        var show = new Command("show", "Show a group's rules in evaluation order, and the machines it applies to") { name, Cli.ResourceGroup };
        show.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var group = await GetAsync(api, result.GetValue(name)!, result.GetValue(Cli.ResourceGroup)!, ct);
            printer.Show(group, DrawbridgeJson.Indented.NetworkSecurityGroupResource, () =>
            {
                var rules = (group.Properties?.SecurityRules ?? []).Concat(group.Properties?.DefaultSecurityRules ?? [])
                    .OrderBy(r => r.Properties?.Direction).ThenBy(r => r.Properties?.Priority);
                printer.Table(["PRIORITY", "NAME", "DIRECTION", "ACCESS", "PROTOCOL", "SOURCE", "PORTS"], rules.Select(r => new[]
                {
                    r.Properties?.Priority?.ToString(CultureInfo.InvariantCulture) ?? "",
                    r.Name ?? "",
                    r.Properties?.Direction ?? "",
                    r.Properties?.Access ?? "",
                    r.Properties?.Protocol ?? "",
                    r.Properties?.SourceAddressPrefix ?? string.Join(",", r.Properties?.SourceAddressPrefixes ?? []),
                    r.Properties?.DestinationPortRange ?? string.Join(",", r.Properties?.DestinationPortRanges ?? []),
                }));
                printer.Line($"Applies to: {AppliesTo(group)}");
            });
            return 0;
        });

        var create = new Command("create", "Create an empty group (Azure's default rules only)") { name, Cli.ResourceGroup };
        create.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var path = api.SecurityGroupPath(result.GetValue(name)!, result.GetValue(Cli.ResourceGroup)!);
            if (await api.FindAsync(path, DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct) is not null)
            {
                throw new CliException($"network security group '{result.GetValue(name)}' already exists.");
            }

            var saved = await PutAsync(api, path, new NetworkSecurityGroupResource { Properties = new NetworkSecurityGroupProperties { SecurityRules = [] } }, ct);
            printer.Show(saved, DrawbridgeJson.Indented.NetworkSecurityGroupResource, () => printer.Line($"Created network security group {saved.Name}."));
            return 0;
        });

        var delete = new Command("delete", "Delete a group; the machines it applied to no longer enforce it") { name, Cli.ResourceGroup };
        delete.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            await api.DeleteAsync(api.SecurityGroupPath(result.GetValue(name)!, result.GetValue(Cli.ResourceGroup)!), ct);
            printer.Line($"Deleted network security group {result.GetValue(name)}.");
            return 0;
        });

        return new Command("nsg", "Network security groups: ordered allow/deny rules that agents enforce on the machines they apply to")
        {
            list, show, create, delete, Attachment(name, attach: true), Attachment(name, attach: false), Rules(name),
        };
    }

    private static Command Attachment(Argument<string> name, bool attach)
    {
        var vms = new Argument<string[]>("vm") { Description = "Machine names or ARM ids", Arity = ArgumentArity.OneOrMore };
        var command = attach
            ? new Command("attach", "Apply a group to machines (their agents enforce it)") { name, vms, Cli.ResourceGroup }
            : new Command("detach", "Stop applying a group to machines") { name, vms, Cli.ResourceGroup };
        command.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var resourceGroup = result.GetValue(Cli.ResourceGroup)!;
            var group = await GetAsync(api, result.GetValue(name)!, resourceGroup, ct);
            var attached = group.Properties!.VirtualMachines ??= [];
            foreach (var vm in result.GetValue(vms)!)
            {
                var id = api.VirtualMachineId(vm, resourceGroup);
                attached.RemoveAll(v => string.Equals(v.Id, id, StringComparison.OrdinalIgnoreCase));
                if (attach)
                {
                    attached.Add(new SubResource { Id = id });
                }
            }

            var saved = await PutAsync(api, api.SecurityGroupPath(group.Id!, ""), group, ct);
            printer.Show(saved, DrawbridgeJson.Indented.NetworkSecurityGroupResource, () =>
                printer.Line($"{saved.Name} applies to: {AppliesTo(saved)}"));
            return 0;
        });
        return command;
    }

    private static Command Rules(Argument<string> name)
    {
        var rule = new Argument<string>("rule") { Description = "Rule name" };
        var priority = new Option<int>("--priority") { Description = "100..4096; lower is evaluated first", Required = true };
        var access = new Option<string>("--access") { Description = "Allow or Deny", DefaultValueFactory = _ => "Allow" };
        var protocol = new Option<string>("--protocol") { Description = "Tcp, Udp or *", DefaultValueFactory = _ => "Tcp" };
        var direction = new Option<string>("--direction") { Description = "Inbound or Outbound (agents enforce inbound rules)", DefaultValueFactory = _ => "Inbound" };
        var sources = new Option<string[]>("--source") { Description = "CIDR prefixes or service tags (*, Internet, VirtualNetwork, AzureLoadBalancer)", Required = true, AllowMultipleArgumentsPerToken = true };
        var ports = new Option<string[]>("--port") { Description = "Destination ports: 22, 1000-2000 or *", Required = true, AllowMultipleArgumentsPerToken = true };

        var add = new Command("add", "Add or replace a rule") { name, rule, priority, access, protocol, direction, sources, ports, Cli.ResourceGroup };
        add.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var group = await GetAsync(api, result.GetValue(name)!, result.GetValue(Cli.ResourceGroup)!, ct);
            var rules = group.Properties!.SecurityRules ??= [];
            rules.RemoveAll(r => string.Equals(r.Name, result.GetValue(rule), StringComparison.OrdinalIgnoreCase));
            rules.Add(new SecurityRuleResource
            {
                Name = result.GetValue(rule),
                Properties = new SecurityRuleProperties
                {
                    Priority = result.GetValue(priority),
                    Access = result.GetValue(access),
                    Protocol = result.GetValue(protocol),
                    Direction = result.GetValue(direction),
                    SourceAddressPrefixes = [.. result.GetValue(sources)!],
                    DestinationPortRanges = [.. result.GetValue(ports)!],
                },
            });
            var saved = await PutAsync(api, api.SecurityGroupPath(group.Id!, ""), group, ct);
            printer.Show(saved, DrawbridgeJson.Indented.NetworkSecurityGroupResource, () => printer.Line($"Rule {result.GetValue(rule)} saved in {saved.Name}."));
            return 0;
        });

        var remove = new Command("remove", "Remove a rule") { name, rule, Cli.ResourceGroup };
        remove.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var group = await GetAsync(api, result.GetValue(name)!, result.GetValue(Cli.ResourceGroup)!, ct);
            if (group.Properties!.SecurityRules!.RemoveAll(r => string.Equals(r.Name, result.GetValue(rule), StringComparison.OrdinalIgnoreCase)) == 0)
            {
                throw new CliException($"network security group '{group.Name}' has no rule '{result.GetValue(rule)}'.");
            }

            var saved = await PutAsync(api, api.SecurityGroupPath(group.Id!, ""), group, ct);
            printer.Show(saved, DrawbridgeJson.Indented.NetworkSecurityGroupResource, () => printer.Line($"Rule {result.GetValue(rule)} removed from {saved.Name}."));
            return 0;
        });
        return new Command("rule", "Rules of a group") { add, remove };
    }

    private static string AppliesTo(NetworkSecurityGroupResource group) =>
        group.Properties?.VirtualMachines is { Count: > 0 } vms ? string.Join(", ", vms.Select(v => Printer.Name(v.Id))) : "no machine";

    public static async Task<NetworkSecurityGroupResource> GetAsync(DrawbridgeApi api, string nameOrId, string resourceGroup, CancellationToken ct) =>
        await api.FindAsync(api.SecurityGroupPath(nameOrId, resourceGroup), DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct)
            ?? throw new CliException($"network security group '{Printer.Name(nameOrId)}' does not exist in resource group '{resourceGroup}'.");

    /// <summary>Writes the group back whole to <paramref name="path"/> (with api-version); its read-only default rules are left out.</summary>
    public static Task<NetworkSecurityGroupResource> PutAsync(DrawbridgeApi api, string path, NetworkSecurityGroupResource group, CancellationToken ct)
    {
        if (group.Properties is { } properties)
        {
            properties.DefaultSecurityRules = null;
        }

        return api.PutAsync(path, group, DrawbridgeJson.Wire.NetworkSecurityGroupResource, DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct);
    }
}
