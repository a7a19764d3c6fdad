using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Drawbridge.Contracts;

namespace Drawbridge.Bench;

/// <summary>Drawbridge grants through the Azure-shaped API: initiate for port 22 on lab host h1..hN in turn, then revoke.</summary>
internal sealed class DrawbridgeGrants(HttpClient http, string subscription, int hosts, bool verbose) : IGrantSystem
{
    private readonly string policy = $"/subscriptions/{subscription}/resourceGroups/default/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/default";
    private string? requestName;

    private int Host(int grant) => (((grant % hosts) + hosts) % hosts) + 1;

    public IPEndPoint Target(int grant) => new(IPAddress.Parse($"198.18.0.{10 + Host(grant)}"), 22);

    public Task PrepareAsync(int grant) => Task.CompletedTask;

    public async Task RequestAsync(int grant)
    {
        var body = $$"""{"virtualMachines":[{"id":"/subscriptions/{{subscription}}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h{{Host(grant)}}","ports":[{"number":22,"duration":"30s"}]}]}""";
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsync($"{policy}/initiate?api-version=2020-01-01", new StringContent(body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"initiate failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        if (verbose)
        {
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"initiate answered {clock.Elapsed.TotalMilliseconds:F1} ms; "));
        }

        var request = (await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.JitNetworkAccessRequest))!;
        requestName = request.Id![(request.Id!.LastIndexOf('/') + 1)..];
    }

    public async Task RevokeAsync(int grant)
    {
        using var revoke = await http.PostAsync($"/subscriptions/{subscription}/providers/Microsoft.Security/jitNetworkAccessRequests/{requestName}/revoke?api-version=2020-01-01", null);
        revoke.EnsureSuccessStatusCode();
    }
}
