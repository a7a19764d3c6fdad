using System.Net.Http.Json;
using System.Text;
using Drawbridge.Contracts;

namespace Drawbridge.Bench;

/// <summary>The few Drawbridge API calls the scenarios share: enrolling machines and initiating a grant on one.</summary>
internal static class BenchApi
{
    public static string Policy(string subscription, string name) =>
        $"/subscriptions/{subscription}/resourceGroups/default/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/{name}";

    public static string VirtualMachine(string subscription, string name) =>
        $"/subscriptions/{subscription}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/{name}";

    /// <summary>POSTs an initiate for port 22 of <paramref name="machine"/> (from the caller's address unless <paramref name="source"/>).</summary>
    public static Task<HttpResponseMessage> InitiateAsync(HttpClient http, string subscription, string policy, string machine, string duration, string? source = null)
    {
        var from = source is null ? "" : $$""","allowedSourceAddressPrefix":"{{source}}" """.TrimEnd();
        var body = $$"""{"virtualMachines":[{"id":"{{VirtualMachine(subscription, machine)}}","ports":[{"number":22,"duration":"{{duration}}"{{from}}}]}]}""";
        return http.PostAsync($"{Policy(subscription, policy)}/initiate?api-version=2020-01-01", new StringContent(body, Encoding.UTF8, "application/json"));
    }

    /// <summary>Initiates as <see cref="InitiateAsync"/> and returns the accepted request; anything else ends the run.</summary>
    public static async Task<JitNetworkAccessRequest> InitiatedAsync(HttpClient http, string subscription, string policy, string machine, string duration)
    {
        using var response = await InitiateAsync(http, subscription, policy, machine, duration);
        await EnsureAsync(response, $"initiate on {machine}");
        return (await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.JitNetworkAccessRequest))!;
    }

    /// <summary>Enrolls machines <paramref name="prefix"/>1..N through the agent channel (no agent runs) and returns their credentials.</summary>
    public static async Task<string[]> EnrollAsync(HttpClient owner, string prefix, int count)
    {
        using var created = await owner.PostAsJsonAsync("/api/v1/enrollment-tokens", new EnrollmentTokenCreateRequest { Uses = count, Ttl = "1h" }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest);
        await EnsureAsync(created, "enrollment token");
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.EnrollmentTokenCreated))!.Token;
        var credentials = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var enrolled = await owner.PostAsJsonAsync("/agent/v1/enroll",
                new AgentEnrollRequest { Token = token, Name = $"{prefix}{i + 1}", Addresses = ["127.0.0.1"] }, DrawbridgeJson.Wire.AgentEnrollRequest, ct);
            await EnsureAsync(enrolled, $"machine {prefix}{i + 1}");
            credentials[i] = (await enrolled.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.AgentEnrollResponse, ct))!.Credential;
        });
        return credentials;
    }

    public static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}

internal static class Percentile
{
    /// <summary>The nearest-rank <paramref name="q"/> quantile of ascending <paramref name="sorted"/> (NaN when empty).</summary>
    public static double Of(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
