using System.Globalization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;

namespace Drawbridge.Server.Network;

/// <summary>Between stored groups and their three other forms: the Azure shape, the assessment's input, the agent's state.</summary>
internal static class SecurityGroupMapping
{
    public const int MaxRulesPerGroup = 1000;

    /// <summary>What the rule's columns hold (checked here, so PostgreSQL never refuses an accepted rule).</summary>
    public const int MaxSourcesLength = 8192;
    public const int MaxPortsLength = 4096;

    /// <summary>Validates one rule in the Azure shape; problems are reported under <paramref name="path"/>.</summary>
    public static SecurityGroupRule? TryParseRule(SecurityRuleResource? arm, int ordinal, string path, ValidationErrors errors)
    {
        var p = arm?.Properties;
        if (arm is null || p is null)
        {
            errors.Add(path, "must be an object with name and properties");
            return null;
        }

        var before = errors.Items.Count;
        var sources = OneOrMany(p.SourceAddressPrefix, p.SourceAddressPrefixes, $"{path}.properties.sourceAddressPrefix", errors);
        var ports = OneOrMany(p.DestinationPortRange, p.DestinationPortRanges, $"{path}.properties.destinationPortRange", errors);
        if (OneOrMany(p.DestinationAddressPrefix, p.DestinationAddressPrefixes, null, errors) is { } destinations && destinations.Any(d => d.Trim() != "*"))
        {
            errors.Add($"{path}.properties.destinationAddressPrefix", "must be '*': a Drawbridge group applies to every machine it is attached to");
        }

        if (OneOrMany(p.SourcePortRange, p.SourcePortRanges, null, errors) is { } sourcePorts && sourcePorts.Any(s => s.Trim() != "*"))
        {
            errors.Add($"{path}.properties.sourcePortRange", "must be '*': rules match destination ports only");
        }

        if (p.Description is { Length: > 140 })
        {
            errors.Add($"{path}.properties.description", "at most 140 characters");
        }

        var rule = NsgRule.TryCreate(arm.Name, p.Priority, p.Direction, p.Access, p.Protocol, sources, ports, path, errors);
        if (rule is not null && string.Join(',', rule.Sources).Length > MaxSourcesLength)
        {
            errors.Add($"{path}.properties.sourceAddressPrefixes", $"at most {MaxSourcesLength} characters of prefixes per rule; split the rule");
        }

        if (rule is not null && string.Join(',', rule.DestinationPorts).Length > MaxPortsLength)
        {
            errors.Add($"{path}.properties.destinationPortRanges", $"at most {MaxPortsLength} characters of port ranges per rule; split the rule");
        }

        return rule is null || errors.Items.Count > before ? null : new SecurityGroupRule
        {
            Ordinal = ordinal,
            Name = rule.Name,
            Priority = rule.Priority,
            Direction = rule.Direction,
            Access = rule.Access,
            Protocol = rule.Protocol,
            Sources = string.Join(',', rule.Sources),
            DestinationPorts = string.Join(',', rule.DestinationPorts),
            Description = p.Description,
        };
    }

    /// <summary>Azure's pairs like sourceAddressPrefix / sourceAddressPrefixes: one or the other, never both.</summary>
    private static List<string>? OneOrMany(string? one, List<string>? many, string? field, ValidationErrors errors)
    {
        var hasOne = !string.IsNullOrWhiteSpace(one);
        var hasMany = many is { Count: > 0 };
        if (hasOne && hasMany && field is not null)
        {
            errors.Add(field, $"give either {field[(field.LastIndexOf('.') + 1)..]} or its plural form, not both");
        }

        return hasOne ? [one!] : hasMany ? many : null;
    }

    public static NsgRule ToRule(SecurityGroupRule row) => new(
        row.Name, row.Priority, row.Direction, row.Access, row.Protocol,
        row.Sources.Split(',', StringSplitOptions.RemoveEmptyEntries),
        row.DestinationPorts.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Range).ToList());

    public static NetworkSecurityGroup ToPosture(SecurityGroup group) =>
        new(group.Name, group.Rules.OrderBy(r => r.Ordinal).Select(ToRule).ToList(), group.Kind);

    public static NetworkSecurityGroupResource ToArm(SecurityGroup group, Guid subscription, IEnumerable<Machine> attached)
    {
        var id = ArmIds.NetworkSecurityGroup(subscription, group.ResourceGroup, group.Name);
        return new NetworkSecurityGroupResource
        {
            Id = id,
            Name = group.Name,
            Type = ArmIds.NetworkSecurityGroupType,
            Location = group.Location,
            Etag = Etag(group.UpdatedUtc),
            Tags = group.ImportedFrom is null ? null : new Dictionary<string, string> { ["drawbridge-imported-from"] = group.ImportedFrom },
            Properties = new NetworkSecurityGroupProperties
            {
                SecurityRules = group.Rules.OrderBy(r => r.Ordinal).Select(r => ToArm(id, "securityRules", ToRule(r), r.Description, Etag(group.UpdatedUtc))).ToList(),
                DefaultSecurityRules = group.Kind == NsgKind.Azure
                    ? NsgRule.DefaultInbound.Concat(DefaultOutbound).Select(r => ToArm(id, "defaultSecurityRules", r, null, Etag(group.UpdatedUtc))).ToList()
                    : [],
                VirtualMachines = attached.OrderBy(m => m.ResourceGroup).ThenBy(m => m.NameKey)
                    .Select(m => new SubResource { Id = ArmIds.VirtualMachine(subscription, m.ResourceGroup, m.Name) }).ToList(),
                ResourceGuid = group.Id.ToString(),
                ProvisioningState = "Succeeded",
            },
        };
    }

    private static SecurityRuleResource ToArm(string groupId, string collection, NsgRule rule, string? description, string etag) => new()
    {
        Id = $"{groupId}/{collection}/{rule.Name}",
        Name = rule.Name,
        Type = $"{ArmIds.NetworkSecurityGroupType}/{collection}",
        Etag = etag,
        Properties = new SecurityRuleProperties
        {
            Description = description,
            Protocol = rule.Protocol == PortProtocol.Any ? "*" : rule.Protocol.ToString(),
            SourcePortRange = "*",
            SourceAddressPrefix = rule.Sources.Count == 1 ? rule.Sources[0] : null,
            SourceAddressPrefixes = rule.Sources.Count == 1 ? [] : [.. rule.Sources],
            DestinationAddressPrefix = "*",
            DestinationPortRange = rule.DestinationPorts.Count == 1 ? rule.DestinationPorts[0].ToString() : null,
            DestinationPortRanges = rule.DestinationPorts.Count == 1 ? [] : rule.DestinationPorts.Select(r => r.ToString()).ToList(),
            Access = rule.Access.ToString(),
            Priority = rule.Priority,
            Direction = rule.Direction.ToString(),
            ProvisioningState = "Succeeded",
        },
    };

    /// <summary>Azure's default outbound rules: shown for fidelity; agents enforce inbound rules only.</summary>
    private static readonly NsgRule[] DefaultOutbound =
    [
        new("AllowVnetOutBound", 65000, RuleDirection.Outbound, RuleAccess.Allow, PortProtocol.Any, ["VirtualNetwork"], [new PortRange(0, 65535)]),
        new("AllowInternetOutBound", 65001, RuleDirection.Outbound, RuleAccess.Allow, PortProtocol.Any, ["*"], [new PortRange(0, 65535)]),
        new("DenyAllOutBound", 65500, RuleDirection.Outbound, RuleAccess.Deny, PortProtocol.Any, ["*"], [new PortRange(0, 65535)]),
    ];

    private static string Etag(DateTimeOffset updated) => string.Create(CultureInfo.InvariantCulture, $"W/\"{updated.UtcTicks:x}\"");

    private static PortRange Range(string text) =>
        PortRange.TryParse(text, out var range) ? range : throw new InvalidOperationException($"stored port range '{text}' is not valid");
}
