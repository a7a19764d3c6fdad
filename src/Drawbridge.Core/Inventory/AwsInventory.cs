using System.Globalization;
using System.Text.RegularExpressions;
using Drawbridge.Contracts;
using Drawbridge.Net;
using Drawbridge.Posture;

namespace Drawbridge.Inventory;

/// <summary>
/// Reads what <c>aws ec2 describe-instances</c> and <c>aws ec2 describe-security-groups</c> print. AWS has no resource
/// groups, so everything goes into one (given by the caller); an instance is named by its Name tag when that is a
/// valid name, else by its id. Security groups become allow-only groups; an instance's groups are alternatives.
/// </summary>
public static partial class AwsInventory
{
    public static InventoryImport Read(string instancesJson, string instancesFile, string groupsJson, string groupsFile, string resourceGroup)
    {
        var notes = new List<string>();
        var groups = JsonAt.Parse(groupsJson, groupsFile)["SecurityGroups"].Items(required: true).Select(g => ReadGroup(g, resourceGroup, notes)).ToList();
        var known = groups.Select(g => g.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var machines = new List<ImportedMachine>();
        foreach (var reservation in JsonAt.Parse(instancesJson, instancesFile)["Reservations"].Items(required: true))
        {
            foreach (var instance in reservation["Instances"].Items(required: true))
            {
                machines.Add(ReadInstance(instance, resourceGroup, known));
            }
        }

        return new InventoryImport { Source = "AWS", Groups = groups, Machines = machines, Notes = notes };
    }

    private static ImportedMachine ReadInstance(JsonAt instance, string resourceGroup, HashSet<string> knownGroups)
    {
        var id = instance["InstanceId"].Text(required: true)!;
        var tag = instance["Tags"].Items().FirstOrDefault(t => t["Key"].Text() == "Name")["Value"].Text();
        var attachments = new List<ImportedAttachment>();
        foreach (var group in instance["SecurityGroups"].Items())
        {
            var groupId = group["GroupId"].Text(required: true)!;
            if (!knownGroups.Contains(groupId))
            {
                throw group["GroupId"].Error($"security group '{groupId}' is not in the security groups file");
            }

            attachments.Add(new ImportedAttachment { ResourceGroup = resourceGroup, Name = groupId, Layer = 0 });
        }

        return new ImportedMachine
        {
            ResourceGroup = resourceGroup,
            Name = tag is not null && ValidName().IsMatch(tag) ? tag : id,
            OsType = string.Equals(instance["Platform"].Text(), "windows", StringComparison.OrdinalIgnoreCase) ? "Windows" : "Linux",
            Addresses = new[] { instance["PrivateIpAddress"].Text(), instance["PublicIpAddress"].Text(), instance["Ipv6Address"].Text() }
                .OfType<string>().Where(a => IpPrefix.TryParse(a, out _, out _)).ToList(),
            Groups = attachments,
        };
    }

    private static ImportedGroup ReadGroup(JsonAt group, string resourceGroup, List<string> notes)
    {
        var id = group["GroupId"].Text(required: true)!;
        var rules = new List<SecurityRuleResource>();
        foreach (var permission in group["IpPermissions"].Items())
        {
            if (ReadPermission(permission, id, rules.Count, notes) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return new ImportedGroup { ResourceGroup = resourceGroup, Name = id, Location = "aws", Kind = nameof(NsgKind.AwsSecurityGroup), SecurityRules = rules };
    }

    private static SecurityRuleResource? ReadPermission(JsonAt permission, string group, int index, List<string> notes)
    {
        var ipProtocol = permission["IpProtocol"].Text(required: true)!;
        var protocol = ipProtocol.ToLowerInvariant() switch
        {
            "-1" or "all" => "*",
            "tcp" or "6" => "Tcp",
            "udp" or "17" => "Udp",
            _ => null,
        };
        if (protocol is null)
        {
            notes.Add($"security group {group}: a rule for protocol {ipProtocol} never reaches a TCP or UDP management port; left out");
            return null;
        }

        var ports = "*";
        if (protocol != "*")
        {
            var from = permission["FromPort"].Number(required: true)!.Value;
            var to = permission["ToPort"].Number(required: true)!.Value;
            if (from < 0 || to > 65535 || from > to)
            {
                throw permission["FromPort"].Error($"ports {from}..{to} are not a port range");
            }

            ports = from == to ? from.ToString(CultureInfo.InvariantCulture) : $"{from}-{to}";
        }

        var sources = permission["IpRanges"].Items().Select(r => r["CidrIp"].Text(required: true)!)
            .Concat(permission["Ipv6Ranges"].Items().Select(r => r["CidrIpv6"].Text(required: true)!))
            .ToList();
        if (sources.FirstOrDefault(s => !IpPrefix.TryParse(s, out _, out _)) is { } bad)
        {
            throw permission["IpRanges"].Error($"'{bad}' is not a CIDR prefix");
        }

        if (permission["PrefixListIds"].Items().Any())
        {
            // Managed prefix lists are not in this output; taking them as the Internet can only make the verdict stricter.
            notes.Add($"security group {group}: prefix lists are not resolved and are taken as Internet");
            sources.Add("Internet");
        }

        if (sources.Count == 0)
        {
            notes.Add($"security group {group}: a rule that only names other security groups (private sources) is left out");
            return null;
        }

        return new SecurityRuleResource
        {
            Name = $"{protocol.Replace("*", "all", StringComparison.Ordinal).ToLowerInvariant()}-{ports.Replace("*", "all", StringComparison.Ordinal)}-{index}",
            Properties = new SecurityRuleProperties
            {
                Protocol = protocol,
                Priority = NsgRule.MinPriority + index,
                Direction = "Inbound",
                Access = "Allow",
                SourceAddressPrefixes = sources.Distinct().ToList(),
                DestinationPortRanges = [ports],
            },
        };
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
