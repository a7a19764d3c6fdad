using System.Security.Claims;
using Drawbridge.Server.Storage;

namespace Drawbridge.Server.Audit;

/// <summary>Writes one event per security decision, allowed or refused.</summary>
internal sealed class AuditLog(DrawbridgeDbContext db, TimeProvider time)
{
    public const string Allowed = "Allowed";
    public const string Refused = "Refused";

    /// <summary>Adds the event to the current unit of work, so it commits (or not) with the change it describes.</summary>
    public void Record(string actor, string action, string scope, string? source, string result, string? reason = null) =>
        db.AuditEvents.Add(new AuditEvent
        {
            TimeUtc = time.GetUtcNow(),
            Actor = Truncate(actor, 256)!,
            Action = action,
            Scope = Truncate(scope, 1024)!,
            SourceAddress = source,
            Result = result,
            Reason = Truncate(reason, 1024),
        });

    public void Record(HttpContext http, string action, string scope, string result, string? reason = null) =>
        Record(http.User.Identity?.Name ?? "anonymous", action, scope, http.Connection.RemoteIpAddress?.ToString(), result, reason);

    /// <summary>A refusal changes nothing else, so it is written on its own.</summary>
    public async Task RefuseAsync(HttpContext http, string action, string scope, string reason, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        Record(http, action, scope, Refused, reason);
        await db.SaveChangesAsync(ct);
    }

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}

internal static class AuditActions
{
    public const string PolicyWrite = "Microsoft.Security/locations/jitNetworkAccessPolicies/write";
    public const string PolicyDelete = "Microsoft.Security/locations/jitNetworkAccessPolicies/delete";
    public const string Initiate = "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";
    public const string Revoke = "Microsoft.Security/jitNetworkAccessRequests/revoke/action";
    public const string Expire = "Microsoft.Security/jitNetworkAccessRequests/expire";
    public const string AgentEnroll = "Drawbridge/agents/enroll/action";
    public const string AgentApply = "Drawbridge/agents/apply/action";
    public const string EnrollmentTokenCreate = "Drawbridge/enrollmentTokens/write";
    public const string Bootstrap = "Drawbridge/installation/bootstrap";
    public const string TokenCreate = "Drawbridge/tokens/write";
    public const string TokenRevoke = "Drawbridge/tokens/delete";
}

internal static class ClaimsPrincipalExtensions
{
    public static string Name(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
}
