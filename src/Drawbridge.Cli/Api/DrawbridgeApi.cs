using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Api;

/// <summary>Typed calls to the server's Azure-shaped API; every failure becomes a CliException with the server's words.</summary>
internal sealed class DrawbridgeApi : IDisposable
{
    public const string SecurityApiVersion = "2020-01-01";
    public const string ComputeApiVersion = "2024-07-01";
    public const string NetworkApiVersion = "2024-05-01";
    public const string DefaultResourceGroup = "default";
    public const string DefaultPolicyName = "default";

    private readonly HttpClient _http;

    public DrawbridgeApi(string server, string token, string subscriptionId)
    {
        if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var baseUri)
            || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"'{server}' is not an http(s) URL.");
        }

        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        SubscriptionId = subscriptionId;
    }

    public string SubscriptionId { get; }

    public static DrawbridgeApi FromConfig()
    {
        var config = ClientConfig.Load();
        return new DrawbridgeApi(config.Server, config.Token, config.SubscriptionId);
    }

    public string Subscription => $"subscriptions/{SubscriptionId}";

    public string VirtualMachineId(string nameOrId, string resourceGroup) =>
        nameOrId.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase)
            ? nameOrId
            : $"/{Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/virtualMachines/{nameOrId}";

    public static string WithVersion(string path, string apiVersion) =>
        path.TrimStart('/') + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + apiVersion;

    public string MachinesPath(string? resourceGroup = null) => WithVersion(
        resourceGroup is null ? $"{Subscription}/providers/Microsoft.Compute/virtualMachines" : $"{Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/virtualMachines",
        ComputeApiVersion);

    public string PoliciesPath() => WithVersion($"{Subscription}/providers/Microsoft.Security/jitNetworkAccessPolicies", SecurityApiVersion);

    public static string PolicyPath(string policyId, string suffix = "") => WithVersion(policyId + suffix, SecurityApiVersion);

    public string PolicyPath(string resourceGroup, string location, string name) =>
        WithVersion($"{Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Security/locations/{location}/jitNetworkAccessPolicies/{name}", SecurityApiVersion);

    public string SecurityGroupsPath(string? resourceGroup = null) => WithVersion(
        resourceGroup is null ? $"{Subscription}/providers/Microsoft.Network/networkSecurityGroups" : $"{Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/networkSecurityGroups",
        NetworkApiVersion);

    public string SecurityGroupPath(string name, string resourceGroup) =>
        WithVersion(name.StartsWith('/') ? name : $"{Subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/{name}", NetworkApiVersion);

    public string RequestsPath(bool activeOnly) =>
        WithVersion($"{Subscription}/providers/Microsoft.Security/jitNetworkAccessRequests" + (activeOnly ? "?active=true" : ""), SecurityApiVersion);

    public string RequestPath(string id, string suffix = "") =>
        WithVersion(id.StartsWith('/') ? id + suffix : $"{Subscription}/providers/Microsoft.Security/jitNetworkAccessRequests/{id}{suffix}", SecurityApiVersion);

    public Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, type, ct)!;

    /// <summary>GET that answers null for 404 instead of failing.</summary>
    public async Task<T?> FindAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendRawAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync(type, ct);
    }

    public Task<TResult> PutAsync<TBody, TResult>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TResult> resultType, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, path, Serialize(body, bodyType), resultType, ct)!;

    public Task<TResult> PostAsync<TBody, TResult>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TResult> resultType, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, Serialize(body, bodyType), resultType, ct)!;

    public Task<TResult> PostAsync<TResult>(string path, JsonTypeInfo<TResult> resultType, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, null, resultType, ct)!;

    public async Task<string> GetTextAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendRawAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    public Task<T> DeleteAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, type, ct)!;

    public async Task DeleteAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        using var response = await SendRawAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public void Dispose() => _http.Dispose();

    private static StringContent Serialize<T>(T body, JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json");

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await SendRawAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        try
        {
            return await response.Content.ReadFromJsonAsync(type, ct);
        }
        catch (JsonException)
        {
            throw new CliException($"{_http.BaseAddress} answered with something that is not Drawbridge's JSON; is this a Drawbridge server?");
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach {_http.BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"{_http.BaseAddress} did not answer in time.");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new CliException(await ProblemText.ReadAsync(response, ct));
        }
    }
}
