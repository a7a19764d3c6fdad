using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Drawbridge.Agent.Enrollment;
using Drawbridge.Contracts;

namespace Drawbridge.Agent.Sync;

/// <summary>The agent's side of /agent/v1, authenticated with its own credential.</summary>
internal sealed class ServerClient : IDisposable
{
    private readonly HttpClient _http;

    public ServerClient(AgentIdentity identity)
    {
        // Longer than the server's long-poll hold (30 s by default), so an idle poll ends with 204, not a timeout.
        _http = new HttpClient { BaseAddress = new Uri(identity.Server), Timeout = TimeSpan.FromSeconds(90) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", identity.Credential);
    }

    /// <summary>
    /// The state newer than <paramref name="after"/>, or null when the server had nothing new before its hold ended.
    /// A <paramref name="report"/> rides along: the server writes it before it starts to wait.
    /// </summary>
    public async Task<DesiredState?> PollAsync(long after, AgentAppliedReport? report, CancellationToken ct)
    {
        using var content = report is null ? null : Json(report);
        using var response = content is null
            ? await _http.GetAsync($"agent/v1/state?after={after}", ct)
            : await _http.PostAsync($"agent/v1/state?after={after}", content, ct);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.DesiredState, ct);
    }

    public void Dispose() => _http.Dispose();

    private static StringContent Json(AgentAppliedReport report) =>
        new(JsonSerializer.Serialize(report, DrawbridgeJson.Wire.AgentAppliedReport), System.Text.Encoding.UTF8, "application/json");

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(await ProblemText.ReadAsync(response, ct), null, response.StatusCode);
        }
    }
}
