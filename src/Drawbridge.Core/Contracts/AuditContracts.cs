namespace Drawbridge.Contracts;

public sealed class AuditEventView
{
    public long Sequence { get; set; }
    public DateTimeOffset TimeUtc { get; set; }
    public string? Actor { get; set; }
    public string? Action { get; set; }
    public string? Scope { get; set; }
    public string? SourceAddress { get; set; }
    public string? Result { get; set; }
    public string? Reason { get; set; }
    public string? Hash { get; set; }
}

public sealed class AuditVerification
{
    public bool Valid { get; set; }
    public long Checked { get; set; }
    public string? HeadHash { get; set; }
    public long? FirstInvalidSequence { get; set; }
    public string? Reason { get; set; }
}

public sealed class ApiTokenCreateRequest
{
    public string? Principal { get; set; }
    public string? Role { get; set; }
    public string? Ttl { get; set; }
    public string? Description { get; set; }
}

public sealed class ApiTokenView
{
    public string? Id { get; set; }
    public string? Principal { get; set; }
    public string? Role { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset? ExpiresUtc { get; set; }
    public DateTimeOffset? RevokedUtc { get; set; }

    /// <summary>Only in the answer to create: the secret itself, shown once.</summary>
    public string? Token { get; set; }
}
