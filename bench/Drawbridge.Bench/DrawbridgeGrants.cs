using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Drawbridge.Bench;

/// <summary>Drawbridge grants through the Azure-shaped API: initiate for port 22 on lab host h1..hN in turn, then revoke.</summary>
internal sealed class DrawbridgeGrants(HttpClient http, string subscription, int hosts, bool verbose) : IGrantSystem
{
    private string? requestName;

    private int Host(int grant) => (((grant % hosts) + hosts) % hosts) + 1;

    public IPEndPoint Target(int grant) => Ssh(Host(grant));

    /// <summary>Port 22 of lab host h<paramref name="host"/> (scripts/lab.sh: 198.18.0.11 for h1).</summary>
    public static IPEndPoint Ssh(int host) => new(IPAddress.Parse($"198.18.0.{10 + host}"), 22);

    public Task PrepareAsync(int grant) => Task.CompletedTask;

    public async Task RequestAsync(int grant)
    {
        var clock = Stopwatch.StartNew();
        var request = await BenchApi.InitiatedAsync(http, subscription, "default", $"h{Host(grant)}", "30s");
        if (verbose)
        {
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"initiate answered {clock.Elapsed.TotalMilliseconds:F1} ms; "));
        }

        requestName = request.Id![(request.Id!.LastIndexOf('/') + 1)..];
    }

    public async Task RevokeAsync(int grant)
    {
        using var revoke = await http.PostAsync($"/subscriptions/{subscription}/providers/Microsoft.Security/jitNetworkAccessRequests/{requestName}/revoke?api-version=2020-01-01", null);
        revoke.EnsureSuccessStatusCode();
    }
}
