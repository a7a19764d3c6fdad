using System.Net.Http.Json;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Drawbridge.Contracts;

namespace Drawbridge.Agent.Enrollment;

/// <summary>Exchanges a one-time enrollment token for this agent's own credential.</summary>
internal static class EnrollCommand
{
    public static async Task<int> RunAsync(string server, string token, string? name, string stateDirectory, CancellationToken ct)
    {
        if (AgentIdentity.Load(stateDirectory) is { } existing)
        {
            await Console.Error.WriteLineAsync($"error: already enrolled as '{existing.MachineName}' with {existing.Server}; remove {AgentIdentity.PathIn(stateDirectory)} to enroll again.");
            return 1;
        }

        if (!Uri.TryCreate(server, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            await Console.Error.WriteLineAsync($"error: --server '{server}' is not an http(s) URL.");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        var request = new AgentEnrollRequest
        {
            Token = token,
            Name = name ?? Environment.MachineName,
            Hostname = Environment.MachineName,
            OsType = OperatingSystem.IsWindows() ? "Windows" : "Linux",
            Addresses = LocalAddresses(),
        };

        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("agent/v1/enroll", request, DrawbridgeJson.Wire.AgentEnrollRequest, ct);
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot reach {server}: {e.Message}");
            return 1;
        }

        if (!response.IsSuccessStatusCode)
        {
            await Console.Error.WriteLineAsync($"error: enrollment refused: {await ProblemText.ReadAsync(response, ct)}");
            return 1;
        }

        var enrolled = await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.AgentEnrollResponse, ct);
        new AgentIdentity { Server = baseUri.ToString(), MachineId = enrolled!.MachineId, MachineName = enrolled.MachineName, Credential = enrolled.Credential }
            .Save(stateDirectory);
        await Console.Out.WriteLineAsync($"Enrolled as {enrolled.MachineName} ({enrolled.MachineId}). Credential stored in {AgentIdentity.PathIn(stateDirectory)}.");
        return 0;
    }

    private static List<string> LocalAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal))
            .Select(a => a.ToString())
            .Distinct()
            .Take(32)
            .ToList();
}
