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

    /// <summary>The machine's network security groups, in the order traffic passes them; each must allow.</summary>
    public List<DesiredSecurityGroup> SecurityGroups { get; set; } = [];
}

/// <summary>One group's inbound rules, already in evaluation order with Azure's default rules last.</summary>
public sealed class DesiredSecurityGroup
{
    public string Name { get; set; } = "";
    public List<DesiredSecurityRule> Rules { get; set; } = [];
}

/// <summary>
/// One inbound rule, resolved for the host: service tags are expanded into disjoint CIDR prefixes (empty: any
/// source) and ports are disjoint ranges like "22" or "1000-2000" (empty: any port).
/// </summary>
public sealed class DesiredSecurityRule
{
    public string Name { get; set; } = "";
    public int Priority { get; set; }

    /// <summary>"allow" or "deny".</summary>
    public string Access { get; set; } = "deny";

    /// <summary>"tcp", "udp" or "*".</summary>
    public string Protocol { get; set; } = "*";
    public List<string> Sources { get; set; } = [];
    public List<string> Ports { get; set; } = [];
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

    /// <summary>Management ports (22, 3389, 5985, 5986) something on the host listens on; null when not looked at.</summary>
    public List<int>? ListeningPorts { get; set; }

    /// <summary>Other nftables base chains on the input hook that can drop traffic, e.g. "table ip filter chain INPUT (policy drop)".</summary>
    public List<string>? OtherInputFilters { get; set; }
}
