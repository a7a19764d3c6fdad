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
