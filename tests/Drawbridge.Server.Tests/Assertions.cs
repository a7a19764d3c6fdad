using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

internal static class Problem
{
    /// <summary>Azure's media type on the ARM routes (its SDKs parse only that), RFC 7807's everywhere else.</summary>
    public static string MediaType(HttpResponseMessage response) =>
        response.RequestMessage?.RequestUri?.AbsolutePath.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase) == true ? "application/json" : "application/problem+json";

    /// <summary>Asserts an RFC 7807 problem with Azure's envelope and, when given, an error for <paramref name="field"/>.</summary>
    public static async Task<ProblemBody> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null, string? message = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal(Problem.MediaType(response), response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ProblemBody);
        Assert.NotNull(problem);
        Assert.StartsWith("urn:drawbridge:problem:", problem.Type, StringComparison.Ordinal);
        Assert.Equal((int)status, problem.Status);
        Assert.False(string.IsNullOrEmpty(problem.Error?.Code));
        Assert.False(string.IsNullOrEmpty(problem.Detail));
        if (field is not null)
        {
            Assert.True(problem.Errors?.ContainsKey(field) == true, $"no error for '{field}' in {text}");
            Assert.Equal(field, problem.Error!.Target);
        }

        if (message is not null)
        {
            Assert.Contains(message, problem.Detail, StringComparison.Ordinal);
        }

        return problem;
    }
}

/// <summary>Everything a refused request must leave untouched.</summary>
internal sealed record StoreSnapshot(int Policies, int Ports, int Requests, string Grants, long Versions, int Machines, int Users, int Assignments, int Tokens, int DisabledUsers,
    int Groups, int GroupRules, int Attachments, string AgentReports)
{
    public static Task<StoreSnapshot> TakeAsync(TestServer server) => server.DbAsync(async db => new StoreSnapshot(
        await db.JitPolicies.CountAsync(),
        await db.JitPolicyPorts.CountAsync(),
        await db.AccessRequests.CountAsync(),
        string.Join(",", (await db.Grants.Select(g => new { g.Id, g.Status }).ToListAsync()).OrderBy(g => g.Id).Select(g => $"{g.Id}:{g.Status}")),
        (await db.Machines.Select(m => m.StateVersion).ToListAsync()).Sum(),
        await db.Machines.CountAsync(),
        await db.Users.CountAsync(),
        await db.RoleAssignments.CountAsync(),
        await db.ApiTokens.CountAsync(t => t.RevokedUtc == null),
        await db.Users.CountAsync(u => u.DisabledUtc != null),
        await db.SecurityGroups.CountAsync(),
        await db.SecurityGroupRules.CountAsync(),
        await db.SecurityGroupAttachments.CountAsync(),
        string.Join(",", (await db.Machines.Select(m => new { m.Id, m.AppliedVersion, m.AgentLastError, m.ListeningPorts, m.OtherInputFilters }).ToListAsync())
            .OrderBy(m => m.Id).Select(m => $"{m.Id}:{m.AppliedVersion}:{m.AgentLastError}:{m.ListeningPorts}:{m.OtherInputFilters}"))));
}

internal static class Responses
{
    public static async Task<JitNetworkAccessRequest> RequestAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted || response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return System.Text.Json.JsonSerializer.Deserialize(text, DrawbridgeJson.Wire.JitNetworkAccessRequest)!;
    }

    public static async Task<string> CreatedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return text;
    }

    public static string Guid(this JitNetworkAccessRequest request) => request.Id![(request.Id!.LastIndexOf('/') + 1)..];

    public static Task<GrantStatus[]> StatusesAsync(TestServer server) =>
        server.DbAsync(async db => (await db.Grants.OrderBy(g => g.Ordinal).Select(g => g.Status).ToListAsync()).ToArray());
}
