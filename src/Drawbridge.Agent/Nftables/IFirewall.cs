using Drawbridge.Contracts;

namespace Drawbridge.Agent.Nftables;

/// <summary>
/// What the agent needs from a host firewall. nftables implements it today; a gateway (forward chain + DNAT) and
/// a Windows Filtering Platform backend are meant to fit behind the same interface.
/// </summary>
internal interface IFirewall
{
    /// <summary>Replaces the whole enforced state atomically; grant times are relative to <paramref name="serverNow"/>.</summary>
    Task ApplyAsync(DesiredState state, DateTimeOffset serverNow, CancellationToken ct);

    /// <summary>Describes how the enforced state differs from what was last applied, or null when it does not.</summary>
    Task<string?> FindDriftAsync(DesiredState state, DateTimeOffset serverNow, CancellationToken ct);

    /// <summary>Other filters on the host's input path that can drop traffic this firewall lets through.</summary>
    Task<List<string>> OtherInputFiltersAsync(CancellationToken ct);
}
