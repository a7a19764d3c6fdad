namespace Drawbridge.Contracts;

// The agent channel (/agent/v1). An agent always receives the whole desired state of its host.

public sealed class AgentEnrollRequest
{
    public string? Token { get; set; }
    public string? Name { get; set; }
    public string? Hostname { get; set; }
    public string? OsType { get; set; }
    public List<string>? Addresses { get; set; }
}

public sealed class AgentEnrollResponse
{
    public required string MachineId { get; set; }
    public required string MachineName { get; set; }
    public required string Credential { get; set; }
}

public sealed class DesiredState
{
    public long Version { get; set; }
    public string? MachineName { get; set; }

    /// <summary>
    /// The server's clock when it built this state. The agent computes each grant's time left against
    /// this instant plus its own monotonic elapsed time, so a skewed agent clock cannot stretch a grant.
    /// </summary>
    public DateTimeOffset ServerTimeUtc { get; set; }
    public List<ProtectedPort> ProtectedPorts { get; set; } = [];
    public List<DesiredGrant> Grants { get; set; } = [];
}

public sealed class ProtectedPort
{
    public int Number { get; set; }

    /// <summary>"tcp", "udp" or "*".</summary>
    public string Protocol { get; set; } = "*";
}

public sealed class DesiredGrant
{
    public string? Id { get; set; }

    /// <summary>A CIDR prefix or single address.</summary>
    public string Source { get; set; } = "";
    public string Protocol { get; set; } = "tcp";
    public int Port { get; set; }
    public DateTimeOffset EndTimeUtc { get; set; }
}

public sealed class AgentAppliedReport
{
    public long Version { get; set; }
    public string? Error { get; set; }

    /// <summary>Set when the agent found its table changed by someone else and restored it.</summary>
    public bool DriftRepaired { get; set; }
}
