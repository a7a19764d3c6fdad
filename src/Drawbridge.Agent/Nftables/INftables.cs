namespace Drawbridge.Agent.Nftables;

/// <summary>What the agent asks of nftables: run a script atomically, and list a table or the whole ruleset as JSON.</summary>
internal interface INftables
{
    Task ApplyAsync(string script, CancellationToken ct);

    Task<string> ListTableJsonAsync(string family, string table, CancellationToken ct);

    Task<string> ListRulesetJsonAsync(CancellationToken ct);
}

internal sealed class NftException(string message) : Exception(message);
