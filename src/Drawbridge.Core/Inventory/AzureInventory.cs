using Drawbridge.Contracts;
using Drawbridge.Net;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Inventory;

/// <summary>
/// Reads what <c>az vm list</c>, <c>az network nsg list</c> and (optionally) <c>az network nic list</c> print. A group
/// applies to a machine through a network interface (layer 1) or through the subnet of one (layer 0, needs the NICs).
/// Rules are kept so that the assessment is never looser than Azure: a rule that cannot reach a management port from
/// the Internet is left out only when leaving it out cannot hide an exposure, and every such choice is noted.
/// </summary>
public static partial class AzureInventory
{
    private static readonly HashSet<string> KnownTags = new(StringComparer.OrdinalIgnoreCase) { "*", "Any", "Internet", "VirtualNetwork", "AzureLoadBalancer" };

    public static InventoryImport Read(string vmsJson, string vmsFile, string nsgsJson, string nsgsFile, string? nicsJson = null, string? nicsFile = null)
    {
        var notes = new List<string>();
        var vms = JsonAt.Parse(vmsJson, vmsFile).Items(required: true).Select(ReadVm).ToList();
        var nics = nicsJson is null ? [] : JsonAt.Parse(nicsJson, nicsFile!).Items(required: true).Select(ReadNic).ToList();
        var groups = JsonAt.Parse(nsgsJson, nsgsFile).Items(required: true).Select(g => ReadGroup(g, notes)).ToList();

        var vmOfNic = new Dictionary<string, ImportedMachine>(StringComparer.OrdinalIgnoreCase);
        foreach (var (machine, nicIds) in vms)
        {
            foreach (var nic in nicIds)
            {
                vmOfNic[nic] = machine;
            }
        }

        void Attach(ImportedMachine machine, ImportedGroup group, int layer)
        {
            var attachments = machine.Groups!;
            if (!attachments.Any(a => SameName(a, group)))
            {
                attachments.Add(new ImportedAttachment { ResourceGroup = group.ResourceGroup, Name = group.Name, Layer = layer });
            }
        }

        foreach (var (group, id, nicIds, subnetIds) in groups)
        {
            foreach (var nic in nicIds.Concat(nics.Where(n => Same(n.GroupId, id)).Select(n => n.Id)))
            {
                if (vmOfNic.TryGetValue(nic, out var machine))
                {
                    Attach(machine, group, layer: 1);
                }
            }

            if (subnetIds.Count > 0 && nicsJson is null)
            {
                notes.Add($"NSG {group.Name} is attached to {subnetIds.Count} subnet(s); pass --nics (az network nic list) to resolve which machines are in them");
            }

            foreach (var nic in nics.Where(n => n.Subnets.Any(s => subnetIds.Contains(s, StringComparer.OrdinalIgnoreCase))))
            {
                if (vmOfNic.TryGetValue(nic.Id, out var machine))
                {
                    Attach(machine, group, layer: 0);
                }
            }
        }

        return new InventoryImport { Source = "Azure", Groups = groups.Select(g => g.Group).ToList(), Machines = vms.Select(v => v.Machine).ToList(), Notes = notes };
    }

    private static (ImportedMachine Machine, List<string> NicIds) ReadVm(JsonAt vm)
    {
        var name = vm["name"].Text(required: true)!;
        var resourceGroup = vm["resourceGroup"].Text() ?? ResourceGroupOf(vm["id"]);
        var osType = vm["storageProfile"]["osDisk"]["osType"].Text() ?? vm["properties"]["storageProfile"]["osDisk"]["osType"].Text() ?? "Linux";
        var network = vm["networkProfile"].Exists ? vm["networkProfile"] : vm["properties"]["networkProfile"];
        var nicIds = network["networkInterfaces"].Items().Select(n => n["id"].Text(required: true)!).ToList();

        // "az vm list -d" adds comma-separated privateIps and publicIps.
        var addresses = new[] { vm["privateIps"].Text(), vm["publicIps"].Text() }
            .SelectMany(a => a?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
            .Where(a => IpPrefix.TryParse(a, out _, out _)).ToList();
        return (new ImportedMachine { ResourceGroup = resourceGroup, Name = name, OsType = osType, Addresses = addresses, Groups = [] }, nicIds);
    }

    private static (string Id, string? GroupId, List<string> Subnets) ReadNic(JsonAt nic)
    {
        var p = nic["properties"].Exists ? nic["properties"] : nic;
        return (nic["id"].Text(required: true)!, p["networkSecurityGroup"]["id"].Text(),
            p["ipConfigurations"].Items().Select(c => (c["properties"].Exists ? c["properties"] : c)["subnet"]["id"].Text()).OfType<string>().ToList());
    }

    private static (ImportedGroup Group, string Id, List<string> NicIds, List<string> SubnetIds) ReadGroup(JsonAt nsg, List<string> notes)
    {
        // "az" prints properties flattened; the REST API nests them under "properties". Both are read.
        var p = nsg["properties"].Exists ? nsg["properties"] : nsg;
        var name = nsg["name"].Text(required: true)!;
        var rules = p["securityRules"].Items().Select(r => ReadRule(r, name, notes)).OfType<SecurityRuleResource>().ToList();
        return (new ImportedGroup
        {
            ResourceGroup = nsg["resourceGroup"].Text() ?? ResourceGroupOf(nsg["id"]),
            Name = name,
            Location = nsg["location"].Text() ?? "local",
            Kind = nameof(NsgKind.Azure),
            SecurityRules = rules,
        },
        nsg["id"].Text(required: true)!,
        p["networkInterfaces"].Items().Select(n => n["id"].Text(required: true)!).ToList(),
        p["subnets"].Items().Select(s => s["id"].Text(required: true)!).ToList());
    }

    private static SecurityRuleResource? ReadRule(JsonAt rule, string group, List<string> notes)
    {
        var nested = rule["properties"].Exists;
        var p = nested ? rule["properties"] : rule;
        var name = rule["name"].Text(required: true)!;
        var priority = p["priority"].Number(required: true);
        var direction = p["direction"].Text(required: true);
        var access = p["access"].Text(required: true);
        var allow = string.Equals(access, "Allow", StringComparison.OrdinalIgnoreCase);
        var protocol = p["protocol"].Text(required: true)!;
        if (protocol is not ("Tcp" or "Udp" or "*" or "tcp" or "udp"))
        {
            notes.Add($"NSG {group} rule {name}: protocol {protocol} never reaches a TCP or UDP management port; left out");
            return null;
        }

        // Drawbridge applies a group to every machine it is attached to; a rule narrowed to other destinations or
        // source ports is kept when it allows (it may expose) and left out when it denies (it may not protect).
        var destinations = p["destinationAddressPrefix"].Texts().Concat(p["destinationAddressPrefixes"].Texts()).ToList();
        var sourcePorts = p["sourcePortRange"].Texts().Concat(p["sourcePortRanges"].Texts()).ToList();
        var narrowed = destinations.Any(d => IpPrefix.TryParse(d, out _, out _)) || sourcePorts.Any(s => s != "*");
        if (narrowed && !allow)
        {
            notes.Add($"NSG {group} rule {name}: denies only some destinations or source ports; left out, so the assessment cannot be looser than Azure");
            return null;
        }

        var written = p["sourceAddressPrefix"].Texts().Concat(p["sourceAddressPrefixes"].Texts()).ToList();
        var sources = new List<string>();
        foreach (var source in written)
        {
            if (!OtherServiceTag().IsMatch(source) || KnownTags.Contains(source))
            {
                sources.Add(source);
            }
            else if (allow)
            {
                notes.Add($"NSG {group} rule {name}: service tag {source} is taken as Internet");
                sources.Add("Internet");
            }
        }

        if (written.Count > 0 && sources.Count == 0)
        {
            notes.Add($"NSG {group} rule {name}: denies only service tags Drawbridge cannot resolve; left out");
            return null;
        }

        var result = new SecurityRuleResource
        {
            Name = name,
            Properties = new SecurityRuleProperties
            {
                Description = p["description"].Text() is { Length: > 140 } description ? description[..140] : p["description"].Text(),
                Protocol = protocol,
                Priority = priority,
                Direction = direction,
                Access = access,
                SourceAddressPrefixes = sources.Distinct().ToList(),
                DestinationPortRanges = p["destinationPortRange"].Texts().Concat(p["destinationPortRanges"].Texts()).ToList(),
            },
        };

        // The same checks the server makes, reported against this file and this rule's JSON path.
        var errors = new ValidationErrors();
        var prop = result.Properties;
        NsgRule.TryCreate(name, prop.Priority, prop.Direction, prop.Access, prop.Protocol, prop.SourceAddressPrefixes, prop.DestinationPortRanges, rule.Path, errors);
        if (errors.Any)
        {
            var field = nested ? errors.Items[0].Field : errors.Items[0].Field.Replace(".properties.", ".", StringComparison.Ordinal);
            throw new InventoryException($"{rule.File}: {field}: {errors.Items[0].Message}");
        }

        return result;
    }

    private static string ResourceGroupOf(JsonAt id)
    {
        var parts = id.Text(required: true)!.Split('/');
        var index = Array.FindIndex(parts, p => p.Equals("resourceGroups", StringComparison.OrdinalIgnoreCase));
        return index >= 0 && index + 1 < parts.Length ? parts[index + 1] : throw id.Error("is not an Azure resource id with a resource group");
    }

    /// <summary>A service tag such as "AzureCloud" or "Storage.WestEurope", as opposed to an address prefix (checked as one).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9.]*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex OtherServiceTag();

    private static bool Same(string? a, string? b) => a is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool SameName(ImportedAttachment a, ImportedGroup g) =>
        string.Equals(a.ResourceGroup, g.ResourceGroup, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Name, g.Name, StringComparison.OrdinalIgnoreCase);
}
