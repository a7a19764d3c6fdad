namespace Drawbridge.Contracts;

/// <summary>The one recommendation Drawbridge assesses, under the key Azure uses (built-in policy ASC_JITNetworkAccess_Audit).</summary>
public static class JitAssessment
{
    public const string Key = "805651bc-6ecd-4c73-9b55-97a19d0582d0";
    public const string DisplayName = "Management ports of virtual machines should be protected with just-in-time network access control";
}

/// <summary>Microsoft.Security/assessments (api-version 2020-01-01), as Defender for Cloud reports a recommendation per resource.</summary>
public sealed class SecurityAssessment
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public SecurityAssessmentProperties? Properties { get; set; }
}

public sealed class SecurityAssessmentProperties
{
    public AssessmentResourceDetails? ResourceDetails { get; set; }
    public string? DisplayName { get; set; }
    public AssessmentStatus? Status { get; set; }

    /// <summary>
    /// Azure's free-form details. Drawbridge fills in "machineSource" (Agent, Azure or AWS) and, when a rule exposes a
    /// management port, "networkSecurityGroupId", "securityRule", "exposedPorts" (comma-separated) and "jitBypassed"
    /// ("true" when JIT protects the port).
    /// </summary>
    public Dictionary<string, string>? AdditionalData { get; set; }
}

public sealed class AssessmentResourceDetails
{
    public string? Source { get; set; }
    public string? Id { get; set; }
}

public sealed class AssessmentStatus
{
    /// <summary>Healthy, Unhealthy or NotApplicable.</summary>
    public string? Code { get; set; }
    public string? Cause { get; set; }
    public string? Description { get; set; }
}
