namespace Drawbridge.Agent.Nftables;

/// <summary>The two things the agent asks of nftables: run a script atomically, and list a table as JSON.</summary>
internal interface INftables
{
    Task ApplyAsync(string script, CancellationToken ct);

    Task<string> ListTableJsonAsync(string family, string table, CancellationToken ct);
}

internal sealed class NftException(string message) : Exception(message);
