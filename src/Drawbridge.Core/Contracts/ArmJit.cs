namespace Drawbridge.Contracts;

// Azure Resource Manager shapes of Microsoft.Security/jitNetworkAccessPolicies (api-version 2020-01-01).
// Every property Drawbridge adds is marked "Drawbridge extension"; Azure clients ignore unknown properties.

public sealed class ArmList<T>
{
    public List<T> Value { get; set; } = [];
    public string? NextLink { get; set; }
}

public sealed class JitNetworkAccessPolicy
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Kind { get; set; }
    public string? Location { get; set; }
    public JitNetworkAccessPolicyProperties? Properties { get; set; }
}

public sealed class JitNetworkAccessPolicyProperties
{
    public List<JitNetworkAccessPolicyVirtualMachine>? VirtualMachines { get; set; }
    public List<JitNetworkAccessRequest>? Requests { get; set; }
    public string? ProvisioningState { get; set; }
}

public sealed class JitNetworkAccessPolicyVirtualMachine
{
    public string? Id { get; set; }
    public List<JitNetworkAccessPortRule>? Ports { get; set; }
    public string? PublicIpAddress { get; set; }
}

public sealed class JitNetworkAccessPortRule
{
    public int? Number { get; set; }
    public string? Protocol { get; set; }
    public string? AllowedSourceAddressPrefix { get; set; }
    public List<string>? AllowedSourceAddressPrefixes { get; set; }
    public string? MaxRequestAccessDuration { get; set; }
}

public sealed class JitNetworkAccessPolicyInitiateRequest
{
    public List<JitNetworkAccessPolicyInitiateVirtualMachine>? VirtualMachines { get; set; }
    public string? Justification { get; set; }
}

public sealed class JitNetworkAccessPolicyInitiateVirtualMachine
{
    public string? Id { get; set; }
    public List<JitNetworkAccessPolicyInitiatePort>? Ports { get; set; }
}

public sealed class JitNetworkAccessPolicyInitiatePort
{
    public int? Number { get; set; }
    public string? AllowedSourceAddressPrefix { get; set; }
    public List<string>? AllowedSourceAddressPrefixes { get; set; }
    public DateTimeOffset? EndTimeUtc { get; set; }

    /// <summary>Drawbridge extension: a duration instead of an end time (PT1H or 1h).</summary>
    public string? Duration { get; set; }
}

public sealed class JitNetworkAccessRequest
{
    /// <summary>Drawbridge extension: the request's own resource id, for get and revoke.</summary>
    public string? Id { get; set; }
    public List<JitNetworkAccessRequestVirtualMachine> VirtualMachines { get; set; } = [];
    public DateTimeOffset StartTimeUtc { get; set; }
    public string? Requestor { get; set; }
    public string? Justification { get; set; }
}

public sealed class JitNetworkAccessRequestVirtualMachine
{
    public string? Id { get; set; }
    public List<JitNetworkAccessRequestPort> Ports { get; set; } = [];
}

public sealed class JitNetworkAccessRequestPort
{
    public int Number { get; set; }
    public string? AllowedSourceAddressPrefix { get; set; }
    public List<string>? AllowedSourceAddressPrefixes { get; set; }
    public DateTimeOffset EndTimeUtc { get; set; }
    public string? Status { get; set; }
    public string? StatusReason { get; set; }
    public int? MappedPort { get; set; }

    /// <summary>Drawbridge extension: the grant's own lifecycle state (Approved, Active, Expired, ...).</summary>
    public string? State { get; set; }

    /// <summary>Drawbridge extension: TCP, UDP or *.</summary>
    public string? Protocol { get; set; }

    /// <summary>Drawbridge extension: who ended the grant early, if anyone.</summary>
    public string? EndedBy { get; set; }
}
