namespace Drawbridge.Contracts;

/// <summary>The Microsoft.Compute/virtualMachines shape, reduced to what Drawbridge knows of a machine.</summary>
public sealed class VirtualMachine
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Location { get; set; }
    public VirtualMachineProperties? Properties { get; set; }
}

public sealed class VirtualMachineProperties
{
    public string? VmId { get; set; }
    public string? ProvisioningState { get; set; }
    public VirtualMachineOsProfile? OsProfile { get; set; }

    /// <summary>Drawbridge extension: addresses the agent reported.</summary>
    public List<string>? Addresses { get; set; }

    /// <summary>Drawbridge extension: the agent's enforcement status.</summary>
    public MachineAgentStatus? Agent { get; set; }

    /// <summary>Drawbridge extension: whether a JIT policy protects this machine.</summary>
    public bool JitEnabled { get; set; }
}

public sealed class VirtualMachineOsProfile
{
    public string? ComputerName { get; set; }
    public string? OsType { get; set; }
}

public sealed class MachineAgentStatus
{
    public string? Status { get; set; }
    public DateTimeOffset? LastSeenUtc { get; set; }
    public long DesiredVersion { get; set; }
    public long AppliedVersion { get; set; }
    public string? LastError { get; set; }
}
