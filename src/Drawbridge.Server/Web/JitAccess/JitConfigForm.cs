using System.Globalization;
using System.Text.RegularExpressions;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.JitAccess;

/// <summary>One row of the ports table, as typed.</summary>
public sealed class PortRow
{
    public const string PerRequest = "request";
    public const string List = "list";

    public string Number { get; set; } = "";
    public string Protocol { get; set; } = "*";
    public string Source { get; set; } = PerRequest;
    public string Sources { get; set; } = "";
    public string MaxTime { get; set; } = "3";
}

/// <summary>
/// The JIT configuration form: the machines it applies to and their ports. Adding and removing rows are form posts
/// too, so the page needs no script. Only what cannot even be sent (a port that is not a number) is checked here;
/// everything else is the API validator's to say, and its messages land next to the fields they name.
/// </summary>
public sealed partial class JitConfigForm
{
    public const int MaxMachines = 50;

    private static readonly int[] DefenderDefaultPorts = [22, 3389, 5985, 5986];

    public List<string> Machines { get; init; } = [];
    public List<PortRow> Ports { get; init; } = [];
    public FormErrors Errors { get; } = new();

    /// <summary>Defender for Cloud's defaults: 22, 3389, 5985 and 5986, any protocol, source per request, 3 hours.</summary>
    public static List<PortRow> DefaultPorts() =>
        [.. DefenderDefaultPorts.Select(n => new PortRow { Number = n.ToString(CultureInfo.InvariantCulture) })];

    internal static List<PortRow> FromPolicy(IEnumerable<JitPolicyPort> ports) => [.. ports.OrderBy(p => p.Ordinal).Select(p =>
    {
        var perRequest = p.AllowedSources == "*";
        return new PortRow
        {
            Number = p.Number.ToString(CultureInfo.InvariantCulture),
            Protocol = p.Protocol.ToAzure(),
            Source = perRequest ? PortRow.PerRequest : PortRow.List,
            Sources = perRequest ? "" : string.Join(", ", JitMapping.SplitList(p.AllowedSources)),
            MaxTime = TimeSpan.FromSeconds(p.MaxDurationSeconds) is var max && max.TotalHours == Math.Floor(max.TotalHours)
                ? ((int)max.TotalHours).ToString(CultureInfo.InvariantCulture) : JitDuration.ToShort(max),
        };
    })];

    /// <summary>Reads the posted form, applying an "add" or "remove row" button if that is what was pressed.</summary>
    public static JitConfigForm Read(IFormCollection form)
    {
        var result = new JitConfigForm { Machines = [.. form["vm"].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!)] };
        for (var i = 0; i <= JitPolicyHandlers.MaxPortsPerMachine && form.ContainsKey($"ports[{i}].number"); i++)
        {
            result.Ports.Add(new PortRow
            {
                Number = form[$"ports[{i}].number"].ToString().Trim(),
                Protocol = form[$"ports[{i}].protocol"].ToString(),
                Source = form[$"ports[{i}].source"].ToString() == PortRow.List ? PortRow.List : PortRow.PerRequest,
                Sources = form[$"ports[{i}].sources"].ToString(),
                MaxTime = form[$"ports[{i}].maxTime"].ToString().Trim(),
            });
        }

        if (int.TryParse(form["remove"], CultureInfo.InvariantCulture, out var remove) && remove >= 0 && remove < result.Ports.Count)
        {
            result.Ports.RemoveAt(remove);
        }
        else if (form.ContainsKey("add"))
        {
            result.Ports.Add(new PortRow());
        }

        return result;
    }

    /// <summary>True when the post was a row edit (add/remove), not a save.</summary>
    public static bool IsRowEdit(IFormCollection form) => form.ContainsKey("add") || form.ContainsKey("remove");

    /// <summary>The rows as the API's port rules; null (with errors) when a row cannot be sent at all.</summary>
    public List<JitNetworkAccessPortRule>? ToArm()
    {
        if (Ports.Count == 0)
        {
            Errors.Add("ports", "Add at least one port.");
        }

        var rules = new List<JitNetworkAccessPortRule>();
        for (var i = 0; i < Ports.Count; i++)
        {
            var row = Ports[i];
            int? number = int.TryParse(row.Number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
            if (number is null)
            {
                Errors.Add($"ports[{i}].number", row.Number.Length == 0 ? "Enter a port number." : $"'{row.Number}' is not a port number; enter one from 1 to 65535.");
            }

            var max = MaxTime(row.MaxTime);
            if (max is null)
            {
                Errors.Add($"ports[{i}].maxTime", $"'{row.MaxTime}' is not a time; enter hours (3) or a duration (90m).");
            }

            var sources = row.Source == PortRow.List ? SourceSeparators().Split(row.Sources).Where(s => s.Length > 0).ToList() : null;
            if (sources is { Count: 0 })
            {
                Errors.Add($"ports[{i}].sources", "List at least one address or range, like 203.0.113.0/24, or allow the source per request.");
            }

            rules.Add(new JitNetworkAccessPortRule
            {
                Number = number,
                Protocol = row.Protocol,
                AllowedSourceAddressPrefix = sources is null ? "*" : null,
                AllowedSourceAddressPrefixes = sources,
                MaxRequestAccessDuration = max,
            });
        }

        return Errors.Any ? null : rules;
    }

    /// <summary>Places the API's errors about the machine's entry (index <paramref name="machine"/>) on this form's fields.</summary>
    internal void AddProblem(IResult result, int machine) => Errors.TryAddProblem(result, path =>
    {
        var match = ApiPath().Match(path);
        if (!match.Success || int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) != machine)
        {
            return null;
        }

        if (!match.Groups[2].Success)
        {
            return match.Groups[4].Value == "ports" ? "ports" : null;
        }

        var row = match.Groups[2].Value;
        return match.Groups[3].Value switch
        {
            "number" => $"ports[{row}].number",
            "protocol" => $"ports[{row}].protocol",
            "allowedSourceAddressPrefix" or "allowedSourceAddressPrefixes" => $"ports[{row}].sources",
            "maxRequestAccessDuration" => $"ports[{row}].maxTime",
            _ => null,
        };
    });

    /// <summary>Hours as a plain number (3, 0.5), or any duration the API takes (90m, PT3H).</summary>
    private static string? MaxTime(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var hours) && hours is > 0 and <= 10_000
            ? JitDuration.ToIso(TimeSpan.FromMinutes(Math.Round(hours * 60)))
            : JitDuration.TryParse(text, out var span) ? JitDuration.ToIso(span) : null;

    /// <summary>properties.virtualMachines[machine].ports[row].field (or one item of a list field), or properties.virtualMachines[machine].field.</summary>
    [GeneratedRegex(@"^properties\.virtualMachines\[(\d+)\](?:\.ports\[(\d+)\]\.(\w+)(?:\[\d+\])?|\.(\w+))?$")]
    private static partial Regex ApiPath();

    [GeneratedRegex(@"[\s,;]+")]
    private static partial Regex SourceSeparators();
}
