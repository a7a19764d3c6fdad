using System.CommandLine;
using System.Globalization;
using Drawbridge.Cli.Api;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>audit, audit verify, audit export: reading and checking the tamper-evident audit chain.</summary>
internal static class AuditCommands
{
    public static Command Create()
    {
        var since = new Option<string?>("--since") { Description = "Only events after a time (2026-11-23T10:00:00Z) or within a duration (1h, 7d)" };
        var actor = new Option<string?>("--actor") { Description = "Only events by this principal" };
        var scope = new Option<string?>("--scope") { Description = "Only events whose scope starts with this resource id" };
        var limit = new Option<int>("--limit") { Description = "At most this many of the newest events", DefaultValueFactory = _ => 100 };

        var audit = new Command("audit", "Security decisions, allowed and refused, newest last") { since, actor, scope, limit };
        audit.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var events = await api.GetAsync(Query("api/v1/audit", result, since, actor, scope, limit), DrawbridgeJson.Wire.ListAuditEventView, ct);
            printer.Show(events, DrawbridgeJson.Indented.ListAuditEventView, () =>
            {
                printer.Table(["#", "TIME", "ACTOR", "ACTION", "RESULT", "SCOPE", "REASON"], events.Select(e => new[]
                {
                    e.Sequence.ToString(CultureInfo.InvariantCulture), e.TimeUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    e.Actor ?? "", ShortAction(e.Action), e.Result ?? "", e.Scope ?? "", e.Reason ?? "",
                }));
            });
            return 0;
        });

        var verify = new Command("verify", "Check the whole chain; names the first edited, removed or reordered event");
        verify.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var verification = await api.GetAsync("api/v1/audit/verify", DrawbridgeJson.Wire.AuditVerification, ct);
            if (printer.Json)
            {
                printer.Write(verification, DrawbridgeJson.Indented.AuditVerification);
            }
            else if (verification.Valid)
            {
                printer.Line($"Audit chain intact: {verification.Checked} events, head {verification.HeadHash}.");
            }

            if (!verification.Valid)
            {
                await Console.Error.WriteLineAsync($"error: audit chain broken at event {verification.FirstInvalidSequence}: {verification.Reason} ({verification.Checked} events before it are intact).");
                return 1;
            }

            return 0;
        });

        var export = new Command("export", "Write events as JSON lines to standard output") { since, actor, scope, limit };
        export.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            await Console.Out.WriteAsync(await api.GetTextAsync(Query("api/v1/audit", result, since, actor, scope, limit) + "&format=jsonl", ct));
            return 0;
        });

        audit.Subcommands.Add(verify);
        audit.Subcommands.Add(export);
        return audit;
    }

    private static string Query(string path, ParseResult result, Option<string?> since, Option<string?> actor, Option<string?> scope, Option<int> limit)
    {
        var parts = new List<string> { $"limit={result.GetValue(limit).ToString(CultureInfo.InvariantCulture)}" };
        foreach (var (name, option) in new[] { ("since", since), ("actor", actor), ("scope", scope) })
        {
            if (result.GetValue(option) is { } value)
            {
                parts.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        return $"{path}?{string.Join('&', parts)}";
    }

    /// <summary>"Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action" reads as "jitNetworkAccessPolicies/initiate".</summary>
    private static string ShortAction(string? action)
    {
        var parts = (action ?? "").Split('/').Where(p => p != "action").ToArray();
        return string.Join('/', parts.TakeLast(2));
    }
}
