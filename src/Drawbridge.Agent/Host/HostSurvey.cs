using System.Globalization;
using System.Text.Json.Nodes;
using Drawbridge.Posture;

namespace Drawbridge.Agent.Host;

/// <summary>
/// What the agent reports about its host besides its own table, for the posture assessment's reason: which management
/// ports something listens on, and which other nftables input chains (iptables-nft included) can drop traffic.
/// </summary>
internal static class HostSurvey
{
    private const string ListenState = "0A";

    /// <summary>Management ports in state LISTEN in /proc/net/tcp and tcp6 of this network namespace.</summary>
    public static List<int> ListeningManagementPorts(string procNet = "/proc/net")
    {
        var ports = new HashSet<int>();
        foreach (var file in new[] { "tcp", "tcp6" })
        {
            var path = Path.Combine(procNet, file);
            if (File.Exists(path))
            {
                ports.UnionWith(ListeningPorts(File.ReadAllText(path)));
            }
        }

        return PostureAssessment.ManagementPorts.Where(ports.Contains).ToList();
    }

    /// <summary>Local ports in state LISTEN in the text of /proc/net/tcp or tcp6 ("sl local_address rem_address st ...").</summary>
    public static IEnumerable<int> ListeningPorts(string procNetTcp)
    {
        foreach (var line in procNetTcp.Split('\n').Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[3] == ListenState
                && fields[1].LastIndexOf(':') is var colon and > 0
                && int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port))
            {
                yield return port;
            }
        }
    }

    /// <summary>
    /// Base chains on the input hook of tables other than <paramref name="ownFamily"/> <paramref name="ownTable"/>
    /// whose policy drops or that hold drop or reject rules, from "nft -j list ruleset". Any of them can drop a packet
    /// Drawbridge accepts: an accept ends only its own chain.
    /// </summary>
    public static List<string> OtherInputFilters(string rulesetJson, string ownFamily, string ownTable)
    {
        var items = JsonNode.Parse(rulesetJson)?["nftables"]?.AsArray() ?? [];
        var dropRules = items.Select(i => i?["rule"]).OfType<JsonObject>()
            .Where(rule => ContainsVerdict(rule["expr"]))
            .GroupBy(rule => (Text(rule, "family"), Text(rule, "table"), Text(rule, "chain")))
            .ToDictionary(g => g.Key, g => g.Count());
        var filters = new List<string>();
        foreach (var chain in items.Select(i => i?["chain"]).OfType<JsonObject>())
        {
            var (family, table, name) = (Text(chain, "family"), Text(chain, "table"), Text(chain, "name"));
            if (Text(chain, "hook") != "input" || (family == ownFamily && table == ownTable))
            {
                continue;
            }

            var reasons = new List<string>();
            if (Text(chain, "policy") == "drop")
            {
                reasons.Add("policy drop");
            }

            if (dropRules.TryGetValue((family, table, name), out var count))
            {
                reasons.Add($"{count} drop or reject rule(s)");
            }

            if (reasons.Count > 0)
            {
                var priority = chain["prio"]?.ToJsonString() ?? "?";
                filters.Add($"table {family} {table} chain {name} at priority {priority} ({string.Join(", ", reasons)})");
            }
        }

        return filters;
    }

    private static string Text(JsonObject node, string property) => node[property] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";

    private static bool ContainsVerdict(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Any(p => p.Key is "drop" or "reject" || ContainsVerdict(p.Value)),
        JsonArray array => array.Any(ContainsVerdict),
        _ => false,
    };
}
