using System.Net;
using System.Net.Http.Json;
using System.Text;
using Drawbridge.Contracts;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Drawbridge.Server.Tests;

/// <summary>
/// Every endpoint x every assignable role x five scopes, against the real server. The target of every call lives in
/// resource group "blue" (machine b1, policy blue-policy); its twin in group "red" (r1, red-policy) is the outside.
/// The expectations are written out per endpoint below, not derived from the code under test, and the endpoint list
/// comes from the running server: an endpoint missing from the table fails the test.
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private const string V = "api-version=2020-01-01";
    private const string CV = "api-version=2024-07-01";
    private const string NV = "api-version=2024-05-01";

    private static readonly string[] Roles = ["Owner", "JitAdministrator", "JitRequester", "Approver", "SecurityReader"];
    private static readonly string[] Everyone = Roles;
    private static readonly string[] Readers = ["Owner", "JitAdministrator", "Approver", "SecurityReader"];
    private static readonly string[] Administrators = ["Owner", "JitAdministrator"];
    private static readonly string[] Requesters = ["Owner", "JitAdministrator", "JitRequester"];
    private static readonly string[] Owners = ["Owner"];

    private TestServer _server = null!;
    private readonly Dictionary<(string Role, Where Where), HttpClient> _callers = [];
    private string _requestId = "";
    private string _assignmentId = "";
    private int _counter;
    private HttpClient _blueAgent = null!;

    /// <summary>Where a caller's one role assignment sits, relative to the target in group blue.</summary>
    public enum Where
    {
        Subscription,
        BlueGroup,
        BlueMachine,
        RedGroup,
        RedMachine,
    }

    /// <summary>Which placements reach the target (may act on it), and which must not even learn it exists (404).</summary>
    private sealed record Reach(Where[] Allowed, Where[] Hidden)
    {
        public static readonly Reach AtSubscription = new([Where.Subscription], []);
        public static readonly Reach InBlueGroup = new([Where.Subscription, Where.BlueGroup], [Where.RedGroup, Where.RedMachine]);
        public static readonly Reach OnBlueMachine = new([Where.Subscription, Where.BlueGroup, Where.BlueMachine], [Where.RedGroup, Where.RedMachine]);
        public static readonly Reach WithinBlueGroup = OnBlueMachine;
        public static readonly Reach Anywhere = new(Enum.GetValues<Where>(), []);
    }

    /// <param name="Marker">For lists: text present exactly when the caller's scope covers the blue target.</param>
    /// <param name="RefusedInReach">The status for a role without the right at a scope that reaches the target (0: 403 or 404).</param>
    /// <param name="Restore">Puts the target back after an allowed destructive call.</param>
    private sealed record Case(string Method, string Path, string? Body, string[] Roles, Reach Reach,
        string? Marker = null, HttpStatusCode RefusedInReach = HttpStatusCode.Forbidden, Func<Task>? Restore = null);

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(new SqliteDatabase());
        (_blueAgent, _) = await _server.EnrollAsync("b1");
        await _server.EnrollAsync("r1");
        await _server.DbAsync(async db =>
        {
            db.ResourceGroups.AddRange(new ResourceGroup { Name = "blue", NameKey = "blue" }, new ResourceGroup { Name = "red", NameKey = "red" });
            await db.SaveChangesAsync();
            await db.Machines.Where(m => m.NameKey == "b1").ExecuteUpdateAsync(s => s.SetProperty(m => m.ResourceGroup, "blue"));
            return await db.Machines.Where(m => m.NameKey == "r1").ExecuteUpdateAsync(s => s.SetProperty(m => m.ResourceGroup, "red"));
        });
        await PutPolicyAsync("blue", "b1");
        await PutPolicyAsync("red", "r1");
        await PutNsgAsync();
        _requestId = (await Responses.RequestAsync(await _server.Owner.PostAsync($"{PolicyPath("blue")}/initiate?{V}",
            TestServer.Json($$"""{"virtualMachines":[{"id":"{{VmId("blue", "b1")}}","ports":[{"number":22,"duration":"1h"}]}]}""")))).Guid();
        await CreateVictimAssignmentAsync();
        Assert.Equal(HttpStatusCode.Created, (await _server.Owner.PostAsync("/api/v1/users", TestServer.Json("""{"name":"victim"}"""))).StatusCode);

        foreach (var role in Roles)
        {
            foreach (var where in Enum.GetValues<Where>())
            {
                var scope = where switch
                {
                    Where.Subscription => _server.Sub,
                    Where.BlueGroup => $"{_server.Sub}/resourceGroups/blue",
                    Where.BlueMachine => VmId("blue", "b1"),
                    Where.RedGroup => $"{_server.Sub}/resourceGroups/red",
                    _ => VmId("red", "r1"),
                };
                _callers[(role, where)] = _server.Client(await _server.CreateUserTokenAsync($"{role}-{where}".ToLowerInvariant(), role, scope), "198.18.0.50");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
    }

    [Fact]
    public void EveryEndpoint_IsInTheMatrix_OrSaysWhyNot()
    {
        var table = Cases().Select(c => Key(c.Method, c.Path)).ToHashSet();
        foreach (var endpoint in Endpoints())
        {
            var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Single();
            var key = $"{method} {endpoint.RoutePattern.RawText}";
            var open = endpoint.Metadata.GetMetadata<AnyCaller>() is not null || endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null;
            Assert.True(open || endpoint.Metadata.GetMetadata<RequiredAction>() is not null, $"{key} declares no action");
            Assert.True(open || table.Contains(key), $"{key} is not in the authorization matrix");
        }
    }

    [Fact]
    public async Task EveryEndpoint_EveryRole_EveryScope()
    {
        var failures = new List<string>();
        foreach (var c in Cases())
        {
            foreach (var role in Roles)
            {
                foreach (var where in Enum.GetValues<Where>())
                {
                    var response = await SendAsync(_callers[(role, where)], c);
                    var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                    var status = response.StatusCode;
                    var allowed = c.Roles.Contains(role);
                    var reaches = c.Reach.Allowed.Contains(where);
                    var hidden = c.Reach.Hidden.Contains(where);
                    string? wrong = (allowed, reaches, hidden) switch
                    {
                        (true, true, _) when status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound || (int)status >= 500 => "allowed",
                        (true, false, true) when status != HttpStatusCode.NotFound => "404 (may not know it exists)",
                        (true, false, false) when status != HttpStatusCode.Forbidden => "403",
                        (false, true, _) when c.RefusedInReach != 0 && status != c.RefusedInReach => ((int)c.RefusedInReach).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        (false, _, _) when status is not (HttpStatusCode.Forbidden or HttpStatusCode.NotFound) => "403 or 404",
                        _ => null,
                    };
                    if (wrong is null && allowed && reaches && c.Marker is not null)
                    {
                        var covers = where is Where.Subscription or Where.BlueGroup or Where.BlueMachine;
                        wrong = body.Contains(c.Marker, StringComparison.OrdinalIgnoreCase) == covers ? null : covers ? $"a list with {c.Marker}" : $"a list without {c.Marker}";
                    }

                    if (wrong is not null)
                    {
                        failures.Add($"{c.Method} {c.Path} as {role} at {where}: expected {wrong}, got {(int)status} {body[..Math.Min(body.Length, 160)]}");
                    }
                    else if (allowed && reaches && c.Restore is not null)
                    {
                        await c.Restore();
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} wrong decisions:\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task AnAgentCredential_IsRefusedEverywhereButItsOwnChannel()
    {
        foreach (var c in Cases().Where(c => !c.Path.StartsWith("/agent/", StringComparison.Ordinal)))
        {
            var response = await SendAsync(_blueAgent, c);
            Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{c.Method} {c.Path} as agent: {(int)response.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await _blueAgent.PostAsync("/api/v1/tokens", TestServer.Json("{}"), TestContext.Current.CancellationToken)).StatusCode);
        var state = await _blueAgent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, TestContext.Current.CancellationToken);
        Assert.Equal("b1", state!.MachineName);
    }

    [Fact]
    public async Task EveryCaller_MayAskWhoTheyAre_AndSeeOnlyTheirOwnTokens()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var ((role, where), client) in _callers)
        {
            var me = (await client.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
            Assert.Equal((role, $"{role}-{where}".ToLowerInvariant()), (Assert.Single(me.Roles).Role, me.Principal));
            var tokens = (await client.GetFromJsonAsync("/api/v1/tokens", DrawbridgeJson.Wire.ListApiTokenView, ct))!;
            Assert.All(tokens, t => Assert.True(t.Principal == me.Principal || (role, where) == ("Owner", Where.Subscription) || role is "Approver" or "SecurityReader" && where == Where.Subscription));
            Assert.Equal(6, (await client.GetFromJsonAsync("/api/v1/role-definitions", DrawbridgeJson.Wire.ListRoleDefinitionView, ct))!.Count);
        }
    }

    [Fact]
    public async Task NobodyAssignsThemselves_AndTheLastOwnerStays()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = await StoreSnapshot.TakeAsync(_server);
        var owner = _callers[("Owner", Where.Subscription)];
        await Problem.AssertAsync(await owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"owner-subscription","role":"JitRequester"}"""), ct), HttpStatusCode.Forbidden);
        var requester = _callers[("JitRequester", Where.Subscription)];
        await Problem.AssertAsync(await requester.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"jitrequester-subscription","role":"Owner"}"""), ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"x","role":"Agent"}"""), ct), HttpStatusCode.BadRequest, "role");
        await Problem.AssertAsync(await owner.PostAsync("/api/v1/role-assignments", TestServer.Json($$"""{"principal":"x","role":"Owner","scope":"{{_server.Sub}}/resourceGroups/nope"}"""), ct), HttpStatusCode.BadRequest, "scope");
        await Problem.AssertAsync(await owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"x","role":"Owner","scope":"/subscriptions/00000000-0000-0000-0000-000000000001"}"""), ct), HttpStatusCode.BadRequest, "scope");
        await Problem.AssertAsync(await owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"x","role":"Owner","scope":"/subscriptions/../etc"}"""), ct), HttpStatusCode.BadRequest, "scope");
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));

        // Two Owners at the subscription: the first may go, the last may not.
        var assignments = (await owner.GetFromJsonAsync($"/api/v1/role-assignments", DrawbridgeJson.Wire.ListRoleAssignmentView, ct))!
            .Where(a => a.Role == "Owner" && string.Equals(a.Scope, _server.Sub, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal(["owner", "owner-subscription"], assignments.Select(a => a.Principal).Order());
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/role-assignments/{assignments.Single(a => a.Principal == "owner").Id}", ct)).StatusCode);
        await Problem.AssertAsync(await owner.DeleteAsync($"/api/v1/role-assignments/{assignments.Single(a => a.Principal == "owner-subscription").Id}", ct), HttpStatusCode.Conflict);

        // A removed role stops working at once: with no role left, the caller cannot even see the installation.
        await Problem.AssertAsync(await _server.Owner.GetAsync("/api/v1/audit", ct), HttpStatusCode.NotFound);
    }

    private IEnumerable<Case> Cases()
    {
        var sub = _server.Sub;
        var blue = $"{sub}/resourceGroups/blue";
        var machines = "providers/Microsoft.Compute/virtualMachines";
        var security = "providers/Microsoft.Security";
        var policy = PolicyPath("blue");
        var policyBody = PolicyBody("blue", "b1");
        var request = $"{sub}/{security}/jitNetworkAccessRequests/{_requestId}";

        yield return new("GET", $"{sub}/{machines}?{CV}", null, Everyone, Reach.Anywhere, Marker: "/virtualMachines/b1\"");
        yield return new("GET", $"{blue}/{machines}?{CV}", null, Everyone, Reach.WithinBlueGroup, Marker: "/virtualMachines/b1\"");
        yield return new("GET", $"{blue}/{machines}/b1?{CV}", null, Everyone, Reach.OnBlueMachine);

        yield return new("GET", $"{sub}/{security}/jitNetworkAccessPolicies?{V}", null, Everyone, Reach.Anywhere, Marker: "blue-policy");
        yield return new("GET", $"{sub}/{security}/locations/local/jitNetworkAccessPolicies?{V}", null, Everyone, Reach.Anywhere, Marker: "blue-policy");
        yield return new("GET", $"{blue}/{security}/jitNetworkAccessPolicies?{V}", null, Everyone, Reach.WithinBlueGroup, Marker: "blue-policy");
        yield return new("GET", $"{blue}/{security}/locations/local/jitNetworkAccessPolicies?{V}", null, Everyone, Reach.WithinBlueGroup, Marker: "blue-policy");
        yield return new("GET", $"{policy}?{V}", null, Everyone, Reach.WithinBlueGroup);
        yield return new("PUT", $"{policy}?{V}", policyBody, Administrators, Reach.InBlueGroup);
        yield return new("DELETE", $"{policy}?{V}", null, Administrators, Reach.InBlueGroup, Restore: () => PutPolicyAsync("blue", "b1"));
        yield return new("POST", $"{policy}/initiate?{V}", $$"""{"virtualMachines":[{"id":"{{VmId("blue", "b1")}}","ports":[{"number":22,"duration":"1h"}]}]}""",
            Requesters, Reach.WithinBlueGroup);

        // Others' requests are invisible to requesters (404); revoking them needs more than reading them.
        yield return new("GET", $"{sub}/{security}/jitNetworkAccessRequests?{V}", null, Everyone, Reach.Anywhere);
        yield return new("GET", $"{request}?{V}", null, Readers, Reach.OnBlueMachine, RefusedInReach: HttpStatusCode.NotFound);
        yield return new("POST", $"{request}/revoke?{V}", null, Administrators, Reach.OnBlueMachine, RefusedInReach: 0);

        var network = "providers/Microsoft.Network/networkSecurityGroups";
        yield return new("GET", $"{sub}/{network}?{NV}", null, Readers, Reach.Anywhere, Marker: "blue-nsg");
        yield return new("GET", $"{blue}/{network}?{NV}", null, Readers, Reach.WithinBlueGroup, Marker: "blue-nsg");
        yield return new("GET", $"{blue}/{network}/blue-nsg?{NV}", null, Readers, Reach.WithinBlueGroup);
        yield return new("PUT", $"{blue}/{network}/blue-nsg?{NV}", NsgBody(), Administrators, Reach.InBlueGroup);
        yield return new("DELETE", $"{blue}/{network}/blue-nsg?{NV}", null, Administrators, Reach.InBlueGroup, Restore: PutNsgAsync);

        yield return new("GET", $"{blue}/{machines}/b1/effectiveNetworkAccess?{NV}", null, Readers, Reach.OnBlueMachine);
        yield return new("POST", "/api/v1/inventory/import", """{"source":"Azure","groups":[],"machines":[]}""", Owners, Reach.AtSubscription);

        yield return new("GET", $"{sub}/{security}/assessments?{V}", null, Readers, Reach.Anywhere, Marker: "/virtualMachines/b1/");
        yield return new("GET", $"{blue}/{machines}/b1/{security}/assessments/805651bc-6ecd-4c73-9b55-97a19d0582d0?{V}", null, Readers, Reach.OnBlueMachine);

        yield return new("GET", "/api/v1/audit?limit=1", null, Readers, Reach.AtSubscription);
        yield return new("GET", "/api/v1/audit/verify", null, Readers, Reach.AtSubscription);
        yield return new("POST", "/api/v1/enrollment-tokens", "{}", Administrators, Reach.AtSubscription);
        yield return new("GET", "/api/v1/users", null, Readers, Reach.AtSubscription);
        yield return new("POST", "/api/v1/users", """{"name":"new-{n}"}""", Owners, Reach.AtSubscription);
        yield return new("POST", "/api/v1/users/victim/disable", null, Owners, Reach.AtSubscription,
            Restore: async () => Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PostAsync("/api/v1/users/victim/enable", null)).StatusCode));
        yield return new("POST", "/api/v1/users/victim/enable", null, Owners, Reach.AtSubscription);

        yield return new("GET", "/api/v1/role-assignments", null, Readers, Reach.Anywhere);
        yield return new("POST", "/api/v1/role-assignments", $$"""{"principal":"someone-{n}","role":"JitRequester","scope":"{{blue}}"}""", Owners, Reach.InBlueGroup);
        yield return new("DELETE", "/api/v1/role-assignments/{assignment}", null, Owners, Reach.InBlueGroup, Restore: CreateVictimAssignmentAsync);

        // The agent channel belongs to agent credentials alone, Owners included.
        yield return new("GET", "/agent/v1/state?after=999999", null, [], Reach.Anywhere);
        yield return new("POST", "/agent/v1/applied", """{"version":1}""", [], Reach.Anywhere);
        yield return new("POST", "/agent/v1/state?after=999999", """{"version":1}""", [], Reach.Anywhere);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, Case c)
    {
        var n = Interlocked.Increment(ref _counter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var path = c.Path.Replace("{assignment}", _assignmentId, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), path)
        {
            Content = c.Body is null ? null : new StringContent(c.Body.Replace("{n}", n, StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private IEnumerable<RouteEndpoint> Endpoints() =>
        _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

    /// <summary>The route pattern a concrete path of the table was made from, to match the server's endpoint list.</summary>
    private string Key(string method, string path)
    {
        var match = Endpoints().FirstOrDefault(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(method) == true
            && Matches(e.RoutePattern.RawText!, path.Split('?')[0]));
        return match is null ? $"{method} {path}" : $"{method} {match.RoutePattern.RawText}";
    }

    private static bool Matches(string pattern, string path)
    {
        var p = pattern.Trim('/').Split('/');
        var s = path.Trim('/').Split('/');
        return p.Length == s.Length && p.Zip(s).All(x => x.First.StartsWith('{') || string.Equals(x.First, x.Second, StringComparison.OrdinalIgnoreCase));
    }

    private string PolicyPath(string rg) => $"{_server.Sub}/resourceGroups/{rg}/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/{rg}-policy";

    private string VmId(string rg, string vm) => $"{_server.Sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}";

    private string PolicyBody(string rg, string vm) =>
        $$$"""{"properties":{"virtualMachines":[{"id":"{{{VmId(rg, vm)}}}","ports":[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]}]}}""";

    private string NsgBody() =>
        $$$"""{"location":"local","properties":{"securityRules":[{"name":"AllowHttps","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"443"}}],"virtualMachines":[{"id":"{{{VmId("blue", "b1")}}}"}]}}""";

    private async Task PutNsgAsync()
    {
        var response = await _server.Owner.PutAsync($"{_server.Sub}/resourceGroups/blue/providers/Microsoft.Network/networkSecurityGroups/blue-nsg?{NV}", TestServer.Json(NsgBody()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task PutPolicyAsync(string rg, string vm)
    {
        var response = await _server.Owner.PutAsync($"{PolicyPath(rg)}?{V}", TestServer.Json(PolicyBody(rg, vm)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task CreateVictimAssignmentAsync()
    {
        var response = await _server.Owner.PostAsync("/api/v1/role-assignments",
            TestServer.Json($$"""{"principal":"victim-{{Interlocked.Increment(ref _counter)}}","role":"SecurityReader","scope":"{{_server.Sub}}/resourceGroups/blue"}"""));
        _assignmentId = (await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.RoleAssignmentView))!.Id!;
    }
}
