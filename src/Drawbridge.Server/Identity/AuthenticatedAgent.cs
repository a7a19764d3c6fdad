using Drawbridge.Server.Storage;

namespace Drawbridge.Server.Identity;

/// <summary>
/// The agent's machine as authentication read it (the credential's lookup returns the whole row), kept with the
/// request so the agent endpoints need not read it again: two queries fewer for every state a fleet receives
/// (a report and the next poll each authenticate), which is what a change reaching 10,000 agents costs.
/// </summary>
internal sealed record AuthenticatedAgent(Machine Machine)
{
    /// <summary>The caller's machine; only on endpoints that require an agent credential.</summary>
    public static Machine Of(HttpContext http) =>
        http.Features.Get<AuthenticatedAgent>()?.Machine ?? throw new InvalidOperationException("not an agent's request");
}
