using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;

namespace Drawbridge.Server.Tests;

/// <summary>ARM lists page through nextLink, as Azure's SDKs expect.</summary>
public sealed class PagingTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() =>
        _server = await TestServer.StartAsync(new SqliteDatabase(), new Dictionary<string, string?> { ["Drawbridge:Limits:PageSize"] = "2" });

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
    }

    [Fact]
    public async Task Lists_FollowNextLink_ToEveryItemOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var name in new[] { "a", "b", "c", "d", "e" })
        {
            await _server.EnrollAsync(name);
            var put = await _server.Owner.PutAsync($"{_server.Sub}/resourceGroups/default/providers/Microsoft.Network/networkSecurityGroups/nsg-{name}?api-version=2026-01-01",
                TestServer.Json("""{"properties":{"securityRules":[]}}"""), ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        async Task<List<string>> AllAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<ArmList<T>> type, Func<T, string> name)
        {
            var names = new List<string>();
            var pages = 0;
            for (string? next = path; next is not null; pages++)
            {
                var page = (await _server.Owner.GetFromJsonAsync(next, type, ct))!;
                Assert.True(page.Value.Count <= 2);
                names.AddRange(page.Value.Select(name));
                next = page.NextLink;
                Assert.True(next is null || next.StartsWith("http://localhost/subscriptions/", StringComparison.Ordinal), next);
            }

            Assert.Equal(3, pages);
            return names;
        }

        Assert.Equal(["nsg-a", "nsg-b", "nsg-c", "nsg-d", "nsg-e"],
            await AllAsync($"{_server.Sub}/providers/Microsoft.Network/networkSecurityGroups?api-version=2026-01-01", DrawbridgeJson.Wire.ArmListNetworkSecurityGroupResource, g => g.Name!));
        Assert.Equal(["a", "b", "c", "d", "e"],
            await AllAsync($"{_server.Sub}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01", DrawbridgeJson.Wire.ArmListVirtualMachine, v => v.Name!));
        Assert.Equal(5, (await AllAsync($"{_server.Sub}/providers/Microsoft.Security/assessments?api-version=2021-06-01", DrawbridgeJson.Wire.ArmListSecurityAssessment, a => a.Id!)).Distinct().Count());

        foreach (var token in new[] { "x", "-1", "99" })
        {
            await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.Sub}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&$skipToken={token}", ct),
                HttpStatusCode.BadRequest, "$skipToken");
        }
    }

    [Fact]
    public async Task RepeatedSlashes_AreOneSlash_AsInAzure()
    {
        // @azure/arm-security sends the scope "/subscriptions/{id}" after a slash of its own.
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("a");
        var response = await _server.Owner.GetAsync(new Uri($"http://localhost/{_server.Sub}/providers//Microsoft.Security/assessments?api-version=2021-06-01"), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single((await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ArmListSecurityAssessment, ct))!.Value);
    }
}
