using System.Globalization;
using Drawbridge.Contracts;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Shared;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Web.Activity;

public sealed record ActivityFilter(string Since, string? Actor, string? Action, string? Result)
{
    public string Query(string? format = null) => QueryString.Create(new Dictionary<string, string?>
    {
        ["since"] = Since, ["actor"] = Actor, ["action"] = Action, ["result"] = Result, ["format"] = format,
    }.Where(kv => !string.IsNullOrEmpty(kv.Value))).ToString();
}

public sealed record ActivityModel(ActivityFilter Filter, bool Truncated)
{
    internal IReadOnlyList<AuditEvent> Events { get; init; } = [];
}

/// <summary>The audit log as a page (newest first) and as CSV or JSON downloads; it spans every scope, so it needs the audit right at the subscription.</summary>
internal static class ActivityHandler
{
    public const int Shown = 500;

    public static async Task<IResult> RenderAsync(HttpContext http, string? since, string? actor, string? action, string? result, string? format,
        DrawbridgeDbContext db, TimeProvider time, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        if (!viewer.CanReadAudit)
        {
            var refused = await viewer.Caller.RefuseAsync(Authorization.Actions.AuditRead, viewer.Caller.Subscription.Key, Authorization.AccessDecision.Forbidden);
            return WebPage.FromProblem(viewer, refused);
        }

        var filter = new ActivityFilter(string.IsNullOrWhiteSpace(since) ? "24h" : since.Trim(), Blank(actor), Blank(action), Blank(result));
        if (!SinceQuery.TryParse(filter.Since, time.GetUtcNow(), out var from) || filter.Result is not (null or AuditLog.Allowed or AuditLog.Refused)
            || format is not (null or "csv" or "json"))
        {
            return WebPage.Error(viewer, StatusCodes.Status400BadRequest, "Invalid filter",
                "Use a period like 24h or 7d (or a time), a result of Allowed or Refused, and a download format of csv or json.");
        }

        var query = db.AuditEvents.AsNoTracking().Where(e => e.TimeUtc >= from);
        if (filter.Actor is { } who)
        {
            query = query.Where(e => e.Actor == who);
        }

        if (filter.Action is { } what)
        {
            query = query.Where(e => e.Action.Contains(what));
        }

        if (filter.Result is { } outcome)
        {
            query = query.Where(e => e.Result == outcome);
        }

        var take = format is null ? Shown : AuditEndpoints.MaxListed;
        var events = await query.OrderByDescending(e => e.Sequence).Take(take + 1).ToListAsync(ct);
        var truncated = events.Count > take;
        events = events.Take(take).ToList();
        return format switch
        {
            "csv" => Csv.Download("drawbridge-activity.csv",
                ["sequence", "timeUtc", "actor", "action", "scope", "sourceAddress", "result", "reason", "hash"],
                events.Select(e => (IReadOnlyList<string?>)[
                    e.Sequence.ToString(CultureInfo.InvariantCulture), e.TimeUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), e.Actor, e.Action,
                    e.Scope, e.SourceAddress, e.Result, e.Reason, e.Hash])),
            "json" => Results.File(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(events.Select(AuditEndpoints.ToView).ToList(), DrawbridgeJson.Wire.ListAuditEventView),
                "application/json", "drawbridge-activity.json"),
            _ => WebPage.Render<ActivityPage>(new { Viewer = viewer, Model = new ActivityModel(filter, truncated) { Events = events } }),
        };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
