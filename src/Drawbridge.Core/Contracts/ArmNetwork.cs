namespace Drawbridge.Contracts;

// Microsoft.Network/networkSecurityGroups as Azure's REST API shapes them. Drawbridge attaches a group to machines
// directly (properties.virtualMachines, a Drawbridge extension), since it has no network interfaces or subnets.

public sealed class NetworkSecurityGroupResource
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Location { get; set; }
    public string? Etag { get; set; }
    public Dictionary<string, string>? Tags { get; set; }
    public NetworkSecurityGroupProperties? Properties { get; set; }
}

public sealed class NetworkSecurityGroupProperties
{
    public List<SecurityRuleResource>? SecurityRules { get; set; }

    /// <summary>Azure's default rules (read-only).</summary>
    public List<SecurityRuleResource>? DefaultSecurityRules { get; set; }

    /// <summary>Drawbridge extension: the machines this group applies to (writable).</summary>
    public List<SubResource>? VirtualMachines { get; set; }
    public string? ResourceGuid { get; set; }
    public string? ProvisioningState { get; set; }
}

public sealed class SecurityRuleResource
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Etag { get; set; }
    public SecurityRuleProperties? Properties { get; set; }
}

public sealed class SecurityRuleProperties
{
    public string? Description { get; set; }
    public string? Protocol { get; set; }
    public string? SourcePortRange { get; set; }
    public List<string>? SourcePortRanges { get; set; }
    public string? DestinationPortRange { get; set; }
    public List<string>? DestinationPortRanges { get; set; }
    public string? SourceAddressPrefix { get; set; }
    public List<string>? SourceAddressPrefixes { get; set; }
    public string? DestinationAddressPrefix { get; set; }
    public List<string>? DestinationAddressPrefixes { get; set; }
    public string? Access { get; set; }
    public int? Priority { get; set; }
    public string? Direction { get; set; }
    public string? ProvisioningState { get; set; }
}

public sealed class SubResource
{
    public string? Id { get; set; }
}
