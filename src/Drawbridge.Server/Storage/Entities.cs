using Drawbridge.Jit;
using Drawbridge.Posture;

namespace Drawbridge.Server.Storage;

// Rows, not domain objects: behaviour lives in Drawbridge.Core and in the feature handlers.
// Names that users type (machines, policies) are matched case-insensitively through a lower-case key, as ARM does.

internal sealed class Installation
{
    public int Id { get; set; }
    public Guid SubscriptionId { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
}

internal sealed class ResourceGroup
{
    public required string Name { get; set; }
    public required string NameKey { get; set; }
}

internal sealed class Machine
{
    public Guid Id { get; set; }
    public required string ResourceGroup { get; set; }
    public required string Name { get; set; }
    public required string NameKey { get; set; }
    public string? Hostname { get; set; }
    public string OsType { get; set; } = "Linux";

    /// <summary>Comma-separated addresses the agent reported.</summary>
    public string Addresses { get; set; } = "";
    public string? AgentCredentialHash { get; set; }
    public DateTimeOffset? AgentLastSeenUtc { get; set; }

    /// <summary>Bumped in the same transaction as every change to what this machine must enforce.</summary>
    public long StateVersion { get; set; }
    public long AppliedVersion { get; set; }
    public string? AgentLastError { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }

    /// <summary>"Azure" or "AWS" for a machine read from a cloud inventory (it has no agent); null for enrolled machines.</summary>
    public string? ImportedFrom { get; set; }

    /// <summary>Comma-separated management ports the agent last saw something listen on; null until it reported.</summary>
    public string? ListeningPorts { get; set; }

    /// <summary>Other nftables input filters the agent last saw, one per line; null until it reported.</summary>
    public string? OtherInputFilters { get; set; }
}

/// <summary>A network security group (Microsoft.Network/networkSecurityGroups): ordered rules, attached to machines.</summary>
internal sealed class SecurityGroup
{
    public Guid Id { get; set; }
    public required string ResourceGroup { get; set; }
    public required string Location { get; set; }
    public required string Name { get; set; }
    public required string NameKey { get; set; }
    public NsgKind Kind { get; set; }

    /// <summary>"Azure" or "AWS" when read from a cloud inventory: such groups change only by importing again.</summary>
    public string? ImportedFrom { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset UpdatedUtc { get; set; }
    public List<SecurityGroupRule> Rules { get; set; } = [];
    public List<SecurityGroupAttachment> Attachments { get; set; } = [];
}

internal sealed class SecurityGroupRule
{
    public long Id { get; set; }
    public Guid GroupId { get; set; }

    /// <summary>Keeps the order the caller wrote the rules in; evaluation order is by priority.</summary>
    public int Ordinal { get; set; }
    public required string Name { get; set; }
    public int Priority { get; set; }
    public RuleDirection Direction { get; set; }
    public RuleAccess Access { get; set; }
    public PortProtocol Protocol { get; set; }

    /// <summary>Comma-separated CIDR prefixes and service tags, as written.</summary>
    public required string Sources { get; set; }

    /// <summary>Comma-separated ports and ranges ("22", "1000-2000", "*").</summary>
    public required string DestinationPorts { get; set; }
    public string? Description { get; set; }
}

/// <summary>
/// A group applied to a machine. Traffic passes a machine's Azure groups in layer order (an imported subnet group
/// is layer 0, a NIC's or a directly attached group layer 1) and must be allowed by each.
/// </summary>
internal sealed class SecurityGroupAttachment
{
    public long Id { get; set; }
    public Guid GroupId { get; set; }
    public Guid MachineId { get; set; }
    public int Layer { get; set; }
}

internal sealed class JitPolicy
{
    public Guid Id { get; set; }
    public required string ResourceGroup { get; set; }
    public required string Location { get; set; }
    public required string Name { get; set; }
    public required string NameKey { get; set; }
    public string Kind { get; set; } = "Basic";
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset UpdatedUtc { get; set; }
    public List<JitPolicyPort> Ports { get; set; } = [];
}

/// <summary>One protected port of one machine. A machine belongs to at most one policy (unique machine+port).</summary>
internal sealed class JitPolicyPort
{
    public long Id { get; set; }
    public Guid PolicyId { get; set; }
    public Guid MachineId { get; set; }

    /// <summary>Keeps the order the caller wrote the machines and ports in.</summary>
    public int Ordinal { get; set; }
    public int Number { get; set; }
    public PortProtocol Protocol { get; set; }

    /// <summary>Comma-separated prefixes; empty means any source per request ("*").</summary>
    public string AllowedSources { get; set; } = "";
    public long MaxDurationSeconds { get; set; }
}

internal sealed class AccessRequest
{
    public Guid Id { get; set; }
    public Guid PolicyId { get; set; }
    public required string Requestor { get; set; }
    public string? Justification { get; set; }
    public DateTimeOffset StartTimeUtc { get; set; }
    public required string ObservedAddress { get; set; }
    public List<Grant> Grants { get; set; } = [];
}

/// <summary>One port opened for one request: the unit the agent enforces and the scheduler ends.</summary>
internal sealed class Grant
{
    public Guid Id { get; set; }
    public Guid RequestId { get; set; }
    public Guid MachineId { get; set; }

    /// <summary>
    /// The request's requestor, kept on the grant too so that counting one principal's live grants (the cap checked on
    /// every initiate) reads only their rows through an index, however many grants everyone else holds.
    /// </summary>
    public required string Requestor { get; set; }
    public int Ordinal { get; set; }
    public int Port { get; set; }
    public PortProtocol Protocol { get; set; }

    /// <summary>Comma-separated prefixes the port is open for.</summary>
    public required string Sources { get; set; }
    public DateTimeOffset EndTimeUtc { get; set; }
    public GrantStatus Status { get; set; }
    public GrantEndReason? EndReason { get; set; }
    public string? EndedBy { get; set; }
    public DateTimeOffset? EndedUtc { get; set; }

    /// <summary>The machine state version that first contained this grant; the agent applying it makes the grant Active.</summary>
    public long PublishedVersion { get; set; }
}

/// <summary>
/// A person who can sign in with a password (the web UI) or hold API tokens. Principal names are case-insensitive
/// and kept in lower case here, in tokens and in role assignments. OIDC users need no row: their name comes from the
/// issuer's token; a row with <see cref="DisabledUtc"/> set shuts one out all the same.
/// </summary>
internal sealed class User
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? DisplayName { get; set; }

    /// <summary>ASP.NET Core Identity's PBKDF2 format; null when the user signs in with tokens or OIDC only.</summary>
    public string? PasswordHash { get; set; }
    public DateTimeOffset? DisabledUtc { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public required string CreatedBy { get; set; }
}

/// <summary>One built-in role held by one principal at one scope (subscription, resource group or machine).</summary>
internal sealed class RoleAssignment
{
    public Guid Id { get; set; }
    public required string Principal { get; set; }
    public required string Role { get; set; }

    /// <summary>The normalized scope key (see Drawbridge.Authorization.AccessScope).</summary>
    public required string Scope { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public required string CreatedBy { get; set; }
}

/// <summary>A personal API token: it proves who the caller is; what they may do comes from their role assignments.</summary>
internal sealed class ApiToken
{
    public Guid Id { get; set; }
    public required string Principal { get; set; }
    public required string TokenHash { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset? ExpiresUtc { get; set; }
    public DateTimeOffset? RevokedUtc { get; set; }
}

internal sealed class EnrollmentToken
{
    public Guid Id { get; set; }
    public required string TokenHash { get; set; }
    public int UsesLeft { get; set; }
    public DateTimeOffset ExpiresUtc { get; set; }
    public required string CreatedBy { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
}

/// <summary>Append-only record of one security decision, chained by SHA-256 (see Drawbridge.Audit.AuditChain).</summary>
internal sealed class AuditEvent
{
    public long Id { get; set; }

    /// <summary>Position in the chain, 1, 2, 3...; unique, so two writers can never fork the chain.</summary>
    public long Sequence { get; set; }
    public string PreviousHash { get; set; } = "";
    public string Hash { get; set; } = "";
    public DateTimeOffset TimeUtc { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Scope { get; set; }
    public string? SourceAddress { get; set; }
    public required string Result { get; set; }
    public string? Reason { get; set; }

    public Drawbridge.Audit.AuditRecord ToRecord() => new(Sequence, TimeUtc, Actor, Action, Scope, SourceAddress, Result, Reason);
}
