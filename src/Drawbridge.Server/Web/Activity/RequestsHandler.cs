using System.Globalization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.Activity;

/// <summary>What the requests table is filtered by; the same query string serves the page and its downloads.</summary>
public sealed record RequestFilter(string Since, string? Machine, string? Requestor, string? State)
{
    public string Query(string? format = null) => QueryString.Create(new Dictionary<string, string?>
    {
        ["since"] = Since, ["machine"] = Machine, ["requestor"] = Requestor, ["state"] = State, ["format"] = format,
    }.Where(kv => !string.IsNullOrEmpty(kv.Value))).ToString();
}

/// <summary>One grant of one request, as a row of the table and of the CSV.</summary>
public sealed class RequestRow
{
    internal RequestRow(AccessRequest request, Grant grant, Machine? machine, GrantStatus state) => (Request, Grant, Machine, State) = (request, grant, machine, state);

    internal AccessRequest Request { get; }

    internal Grant Grant { get; }

    internal Machine? Machine { get; }

    public GrantStatus State { get; }
}

public sealed record RequestsModel(RequestFilter Filter, IReadOnlyList<RequestRow> Rows, bool Truncated, DateTimeOffset Now);

internal static class RequestsHandler
{
    public static async Task<IResult> RenderAsync(HttpContext http, string? since, string? machine, string? requestor, string? state, string? format,
        Fleet fleet, InstallationContext installation, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var filter = new RequestFilter(string.IsNullOrWhiteSpace(since) ? "7d" : since.Trim(), Blank(machine), Blank(requestor), Blank(state));
        var errors = new List<string>();
        var now = fleet.Now;
        if (!SinceQuery.TryParse(filter.Since, now, out var from))
        {
            errors.Add(SinceQuery.Expected(filter.Since) + ".");
        }

        if (filter.State is not (null or "live" or "ended"))
        {
            errors.Add($"'{filter.State}' is not a state filter (live or ended).");
        }

        if (format is not (null or "csv" or "json"))
        {
            errors.Add($"'{format}' is not a download format (csv or json).");
        }

        if (errors.Count > 0)
        {
            return WebPage.Error(viewer, StatusCodes.Status400BadRequest, "Invalid filter", string.Join(" ", errors));
        }

        var requests = await fleet.RequestsSinceAsync(from, ct);
        var machines = await fleet.MachinesOfAsync(requests, ct);
        var rows = requests.SelectMany(r => r.Grants.OrderBy(g => g.Ordinal).Select(g => new RequestRow(r, g, machines.GetValueOrDefault(g.MachineId), Fleet.StateOf(g, now))))
            .Where(row => filter.Machine is null || string.Equals(row.Machine?.Name, filter.Machine, StringComparison.OrdinalIgnoreCase))
            .Where(row => filter.Requestor is null || string.Equals(row.Request.Requestor, filter.Requestor, StringComparison.OrdinalIgnoreCase))
            .Where(row => filter.State is null || (filter.State == "live") == row.State.IsLive())
            .ToList();

        return format switch
        {
            "csv" => Csv.Download("drawbridge-requests.csv",
                ["requestId", "startTimeUtc", "requestor", "resourceGroup", "machine", "port", "protocol", "source", "state", "endTimeUtc", "endedBy", "justification"],
                rows.Select(r => (IReadOnlyList<string?>)[
                    r.Request.Id.ToString(), Iso(r.Request.StartTimeUtc), r.Request.Requestor, r.Machine?.ResourceGroup, r.Machine?.Name,
                    r.Grant.Port.ToString(CultureInfo.InvariantCulture), r.Grant.Protocol.ToAzure(), r.Grant.Sources, r.State.ToString(), Iso(r.Grant.EndTimeUtc),
                    r.Grant.EndedBy, r.Request.Justification])),
            // The API's own shape: what `GET .../jitNetworkAccessRequests` returns, filtered as on the page.
            "json" => Results.File(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
                    new ArmList<JitNetworkAccessRequest> { Value = [.. rows.Select(r => r.Request).Distinct().Select(r => JitMapping.ToArm(r, installation.SubscriptionId, machines))] },
                    DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest),
                "application/json", "drawbridge-requests.json"),
            _ => WebPage.Render<RequestsPage>(new
            {
                Viewer = viewer,
                Model = new RequestsModel(filter, rows, requests.Count >= RequestHandlers.MaxListed, now),
            }),
        };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
