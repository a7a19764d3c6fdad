using System.Text;
using System.Text.Json;
using Drawbridge.Audit;
using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Audit;

/// <summary>Reading, exporting and verifying the audit chain.</summary>
internal static class AuditEndpoints
{
    public const int MaxListed = 10_000;

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        // The log spans every scope, so reading it takes the right at the subscription.
        var audit = app.MapGroup("/api/v1/audit").WithTags("Audit");
        audit.MapGet("", (HttpContext http, string? since, string? actor, string? scope, int? limit, string? format, DrawbridgeDbContext db, TimeProvider time, CancellationToken ct)
            => ListAsync(http, since, actor, scope, limit, format, db, time, ct)).RequireAction(Actions.AuditRead);
        audit.MapGet("/verify", (DrawbridgeDbContext db, CancellationToken ct) => VerifyAsync(db, ct)).RequireAction(Actions.AuditRead);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, string? since, string? actor, string? scope, int? limit, string? format,
        DrawbridgeDbContext db, TimeProvider time, CancellationToken ct)
    {
        var query = db.AuditEvents.AsNoTracking();
        if (since is not null)
        {
            if (!SinceQuery.TryParse(since, time.GetUtcNow(), out var from))
            {
                return Problems.Validation("since", SinceQuery.Expected(since));
            }

            query = query.Where(e => e.TimeUtc >= from);
        }

        if (actor is not null)
        {
            query = query.Where(e => e.Actor == actor);
        }

        if (scope is not null)
        {
            query = query.Where(e => e.Scope.StartsWith(scope));
        }

        var take = limit ?? 1000;
        if (take is < 1 or > MaxListed)
        {
            return Problems.Validation("limit", $"{take} is outside 1..{MaxListed}");
        }

        if (format is not null and not "json" and not "jsonl")
        {
            return Problems.Validation("format", $"'{format}' is not json or jsonl");
        }

        // The newest events, returned oldest first: the order they happened in.
        var events = (await query.OrderByDescending(e => e.Sequence).Take(take).ToListAsync(ct)).OrderBy(e => e.Sequence).Select(ToView).ToList();
        if (format == "jsonl")
        {
            var lines = new StringBuilder();
            foreach (var e in events)
            {
                lines.Append(JsonSerializer.Serialize(e, DrawbridgeJson.Wire.AuditEventView)).Append('\n');
            }

            return TypedResults.Text(lines.ToString(), "application/jsonl", Encoding.UTF8);
        }

        return TypedResults.Json(events, DrawbridgeJson.Wire.ListAuditEventView);
    }

    /// <summary>Walks the whole chain in sequence order, streaming, and names the first event that breaks it.</summary>
    private static async Task<IResult> VerifyAsync(DrawbridgeDbContext db, CancellationToken ct)
    {
        var verifier = new AuditChainVerifier();
        AuditBreak? broken = null;
        await foreach (var e in db.AuditEvents.AsNoTracking().OrderBy(e => e.Sequence).AsAsyncEnumerable().WithCancellation(ct))
        {
            broken = verifier.Add(e.ToRecord(), e.PreviousHash, e.Hash);
            if (broken is not null)
            {
                break;
            }
        }

        return TypedResults.Json(new AuditVerification
        {
            Valid = broken is null,
            Checked = verifier.Checked,
            HeadHash = broken is null ? verifier.Head : null,
            FirstInvalidSequence = broken?.Sequence,
            Reason = broken?.Reason,
        }, DrawbridgeJson.Wire.AuditVerification);
    }

    public static AuditEventView ToView(AuditEvent e) => new()
    {
        Sequence = e.Sequence,
        TimeUtc = e.TimeUtc,
        Actor = e.Actor,
        Action = e.Action,
        Scope = e.Scope,
        SourceAddress = e.SourceAddress,
        Result = e.Result,
        Reason = e.Reason,
        Hash = e.Hash,
    };
}
