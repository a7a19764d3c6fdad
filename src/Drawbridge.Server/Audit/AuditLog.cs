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
        db.AuditEvents.Add(New(actor, action, scope, source, result, reason));

    public void Record(HttpContext http, string action, string scope, string result, string? reason = null) =>
        db.AuditEvents.Add(New(http, action, scope, result, reason));

    /// <summary>The event without adding it, for a change written with direct statements (chain it, then insert it).</summary>
    public AuditEvent New(HttpContext http, string action, string scope, string result, string? reason = null) =>
        New(http.User.Identity?.Name ?? "anonymous", action, scope, http.Connection.RemoteIpAddress?.ToString(), result, reason);

    private AuditEvent New(string actor, string action, string scope, string? source, string result, string? reason) => new()
    {
        TimeUtc = time.GetUtcNow(),
        Actor = Truncate(actor, 256)!,
        Action = action,
        Scope = Truncate(scope, 1024)!,
        SourceAddress = source,
        Result = result,
        Reason = Truncate(reason, 1024),
    };

    /// <summary>A refusal changes nothing else, so it is written on its own.</summary>
    public async Task RefuseAsync(HttpContext http, string action, string scope, string reason, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        Record(http, action, scope, Refused, reason);
        await db.SaveChangesAsync(ct);
    }

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}

internal static class ClaimsPrincipalExtensions
{
    public static string Name(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
}
