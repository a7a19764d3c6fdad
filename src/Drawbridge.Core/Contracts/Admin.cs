namespace Drawbridge.Contracts;

// Drawbridge's own endpoints (/api/v1), outside the Azure resource tree.

public sealed class WhoAmI
{
    public string? Principal { get; set; }

    /// <summary>How the caller signed in: token, agent, oidc or cookie.</summary>
    public string? AuthenticatedBy { get; set; }
    public List<RoleAssignmentView> Roles { get; set; } = [];
    public string? SubscriptionId { get; set; }
    public string? ObservedAddress { get; set; }
}

public sealed class EnrollmentTokenCreateRequest
{
    public int? Uses { get; set; }
    public string? Ttl { get; set; }
}

public sealed class EnrollmentTokenCreated
{
    public required string Token { get; set; }
    public int Uses { get; set; }
    public DateTimeOffset ExpiresUtc { get; set; }
}

/// <summary>
/// RFC 7807 problem details as every Drawbridge error is written, carrying Azure's error envelope
/// (<c>error.code</c>, <c>error.message</c>, <c>error.target</c>) beside it so Azure SDKs read it too.
/// </summary>
public sealed class ProblemBody
{
    public string? Type { get; set; }
    public string? Title { get; set; }
    public int? Status { get; set; }
    public string? Detail { get; set; }
    public Dictionary<string, string[]>? Errors { get; set; }
    public AzureError? Error { get; set; }
}

public sealed class AzureError
{
    public string? Code { get; set; }
    public string? Message { get; set; }
    public string? Target { get; set; }
}
