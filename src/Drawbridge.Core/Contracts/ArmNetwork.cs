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

/// <summary>
/// Drawbridge extension (GET {vmId}/effectiveNetworkAccess): which sources reach a machine's ports after every rule
/// of its groups and its JIT deny, in the order its agent evaluates them. Active JIT grants are not included.
/// </summary>
public sealed class EffectiveNetworkAccess
{
    public List<EffectivePortAccess> Value { get; set; } = [];
}

public sealed class EffectivePortAccess
{
    public int Port { get; set; }

    /// <summary>"Tcp" or "Udp".</summary>
    public string? Protocol { get; set; }

    /// <summary>The fewest CIDR prefixes covering every allowed source; empty when nothing gets through.</summary>
    public List<string> AllowedSources { get; set; } = [];

    /// <summary>Whether any allowed source is on the Internet (not private, loopback, link-local or multicast).</summary>
    public bool FromInternet { get; set; }
    public bool JitProtected { get; set; }

    /// <summary>The first rule that allowed any of the sources, when a group decided.</summary>
    public string? NetworkSecurityGroupId { get; set; }
    public string? SecurityRule { get; set; }
}
