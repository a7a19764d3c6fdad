using System.Diagnostics;
using System.Text.Json.Nodes;
using Drawbridge.Agent.Host;
using Drawbridge.Contracts;
using Drawbridge.Net;
using Microsoft.Extensions.Logging;

namespace Drawbridge.Agent.Nftables;

/// <summary>
/// Enforces the desired state in table <c>inet drawbridge</c> and nowhere else. After each apply it keeps a
/// fingerprint of the table's chains and sets (without elements) to spot edits, and checks the grant elements
/// against what should still be open.
/// </summary>
internal sealed partial class NftablesFirewall(INftables nft, string bootFile, ILogger logger) : IFirewall
{
    /// <summary>Elements this close to their end time may or may not be gone yet; they are not judged.</summary>
    public static readonly TimeSpan ExpiryWindow = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Elements with less time left than this keep the countdown of the whole-table transaction: the kernel may end
    /// them before a restart reaches it, and deleting a missing element would fail the restart of all the others.
    /// </summary>
    public static readonly TimeSpan RestartMargin = TimeSpan.FromSeconds(1);

    private string? _fingerprint;

    // What the kernel holds since the last apply: the table without its elements (the boot file's text) and the state
    // whose grants fill it. Null when that is not known, for instance after drift was found.
    private (string Structure, DesiredState State)? _applied;

    public async Task ApplyAsync(DesiredState state, DateTimeOffset serverNow, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var structure = NftRuleset.Render(state, []);
        if (_applied is { } applied && applied.Structure == structure && await TryApplyGrantChangesAsync(applied.State, state, serverNow, started, ct))
        {
            _applied = (structure, state);
            return;
        }

        _applied = null;
        var elements = NftRuleset.Elements(state, serverNow);
        await nft.ApplyAsync(NftRuleset.Render(state, elements), ct);
        await RestartTimeoutsAsync(Aged(elements, started), ct);
        _fingerprint = Fingerprint(await ListTableAsync(ct));
        await WriteBootFileAsync(structure, ct);
        _applied = (structure, state);
    }

    /// <summary>
    /// Grants change far more often than ports and groups. When only they changed, one small transaction deletes the
    /// elements that ended or changed and adds the new ones, instead of parsing and replacing the whole table, whose
    /// size grows with the machine's security groups; nothing else needs re-listing or re-writing. False when the
    /// kernel no longer holds what was applied (an element ended or was deleted under us, so a delete failed, which
    /// changes nothing): the caller then replaces the whole table. The countdowns of the elements it added are
    /// restarted after it, as after a whole table: under load even this small transaction reached the kernel up to
    /// 120 ms after its timeouts were computed (bench/README.md, close precision). The elements it kept already had
    /// theirs restarted when they were added.
    /// </summary>
    private async Task<bool> TryApplyGrantChangesAsync(DesiredState previous, DesiredState state, DateTimeOffset serverNow, long started, CancellationToken ct)
    {
        var before = NftRuleset.Elements(previous, serverNow);
        var after = NftRuleset.Elements(state, serverNow);
        var script = NftRuleset.ElementChanges(before, after);
        if (script.Length == 0)
        {
            return true;
        }

        try
        {
            await nft.ApplyAsync(script, ct);
        }
        catch (NftException e)
        {
            Log.GrantChangesFailed(logger, e.Message);
            return false;
        }

        await RestartTimeoutsAsync(Aged(after.Except(before), started), ct);
        return true;
    }

    /// <summary>The elements with the time left now, <paramref name="started"/> being when their timeouts were computed.</summary>
    private static IEnumerable<GrantElement> Aged(IEnumerable<GrantElement> elements, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        return elements.Select(e => e with { Remaining = e.Remaining - elapsed });
    }

    /// <summary>
    /// The kernel starts an element's countdown when the transaction reaches it, not when its timeout was computed.
    /// Parsing and committing the whole table took up to 150 ms on a busy 2-core host, and a grant outlived its end by
    /// as much (bench/README.md, close precision). A second, small transaction restarts the countdowns from the time
    /// left now, which bounds the overshoot by its own, much shorter, run. If it fails, the state is still enforced
    /// (the whole-table transaction stands, with the first countdowns), so the apply does not fail: failing it would
    /// keep the previous state as current, and the drift check would then take the new grants away again.
    /// </summary>
    private async Task RestartTimeoutsAsync(IEnumerable<GrantElement> elements, CancellationToken ct)
    {
        var restarted = elements.Where(e => e.Remaining > RestartMargin).ToList();
        if (restarted.Count == 0)
        {
            return;
        }

        try
        {
            await nft.ApplyAsync(NftRuleset.RestartTimeouts(restarted), ct);
        }
        catch (NftException e)
        {
            // Only an element removed by someone else in between fails it: that is drift, which the drift loop repairs.
            Log.RestartFailed(logger, e.Message);
        }
    }

    public async Task<string?> FindDriftAsync(DesiredState state, DateTimeOffset serverNow, CancellationToken ct)
    {
        // Drift means the kernel no longer holds what was applied: the repair replaces the whole table.
        var drift = await FindDriftInKernelAsync(state, serverNow, ct);
        if (drift is not null)
        {
            _applied = null;
        }

        return drift;
    }

    private async Task<string?> FindDriftInKernelAsync(DesiredState state, DateTimeOffset serverNow, CancellationToken ct)
    {
        JsonNode? table;
        try
        {
            table = await ListTableAsync(ct);
        }
        catch (NftException)
        {
            return "table inet drawbridge is missing";
        }

        if (Fingerprint(table) != _fingerprint)
        {
            return "rules or sets of table inet drawbridge were changed";
        }

        var actual = ElementKeys(table);
        foreach (var element in NftRuleset.Elements(state, serverNow))
        {
            if (!actual.Remove(element.Key) && element.Remaining > ExpiryWindow)
            {
                return $"grant element {element.Key} is missing";
            }
        }

        // Anything left must lie inside a grant that is live, or ended within the window and not yet gone from the kernel.
        var grants = state.Grants
            .Where(g => g.EndTimeUtc - serverNow > -ExpiryWindow && IpPrefix.TryParse(g.Source, out _, out _))
            .Select(g => (Source: IpPrefix.Parse(g.Source), g.Protocol, g.Port))
            .ToList();
        var unexpected = actual.Where(key => !grants.Any(g =>
            g.Port == key.Port && (g.Protocol == key.Protocol || g.Protocol == "*") && g.Source.Contains(key.Source)));
        return unexpected.Select(key => $"unexpected grant element {key}").FirstOrDefault();
    }

    public async Task<List<string>> OtherInputFiltersAsync(CancellationToken ct) =>
        HostSurvey.OtherInputFilters(await nft.ListRulesetJsonAsync(ct), NftRuleset.Family, NftRuleset.Table);

    /// <summary>
    /// The deny part of the state, with empty grant sets, for the system's nftables service to load at boot: a
    /// rebooted host is closed before the agent starts. Written to a temporary file and renamed, never half-written.
    /// </summary>
    private async Task WriteBootFileAsync(string structure, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(bootFile))!;
        Directory.CreateDirectory(directory);
        var temporary = bootFile + ".tmp";
        var body = "# Written by drawbridge-agent: JIT-protected ports stay closed from boot until the agent runs.\n" + structure;
        await File.WriteAllTextAsync(temporary, body, ct);
        File.Move(temporary, bootFile, overwrite: true);
    }

    private async Task<JsonNode?> ListTableAsync(CancellationToken ct) =>
        JsonNode.Parse(await nft.ListTableJsonAsync(NftRuleset.Family, NftRuleset.Table, ct));

    /// <summary>The table's JSON without handles, element lists and version metadata: what must not change between applies.</summary>
    internal static string Fingerprint(JsonNode? table)
    {
        var items = table?["nftables"]?.AsArray() ?? [];
        var kept = new JsonArray();
        foreach (var item in items)
        {
            if (item is null || item["metainfo"] is not null)
            {
                continue;
            }

            var copy = item.DeepClone();
            Strip(copy);
            kept.Add(copy);
        }

        return kept.ToJsonString();
    }

    internal static HashSet<ElementKey> ElementKeys(JsonNode? table)
    {
        var keys = new HashSet<ElementKey>();
        foreach (var item in table?["nftables"]?.AsArray() ?? [])
        {
            if (item?["set"]?["elem"] is not JsonArray elements)
            {
                continue;
            }

            foreach (var element in elements)
            {
                var value = element?["elem"]?["val"] ?? element;
                if (value?["concat"] is JsonArray parts && parts.Count == 3)
                {
                    var source = parts[0] is JsonObject o && o["prefix"] is { } prefix
                        ? $"{prefix["addr"]}/{prefix["len"]}"
                        : parts[0]!.GetValue<string>();
                    if (IpPrefix.TryParse(source, out var parsed, out _))
                    {
                        keys.Add(new ElementKey(parsed.Value, parts[1]!.GetValue<string>(), parts[2]!.GetValue<int>()));
                    }
                }
            }
        }

        return keys;
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                obj.Remove("handle");
                obj.Remove("elem");
                foreach (var (_, value) in obj.ToList())
                {
                    Strip(value);
                }

                break;
            case JsonArray array:
                foreach (var value in array)
                {
                    Strip(value);
                }

                break;
            default:
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not restart the grant elements' countdowns; the state is enforced with the first ones: {Error}")]
        public static partial void RestartFailed(ILogger logger, string error);

        [LoggerMessage(2, LogLevel.Information, "Could not apply the grant changes alone, replacing the whole table: {Error}")]
        public static partial void GrantChangesFailed(ILogger logger, string error);
    }
}
