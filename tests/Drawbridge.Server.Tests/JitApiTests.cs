using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Drawbridge.Server.Tests;

public sealed class JitApiTests_Sqlite() : JitApiTests(new SqliteDatabase());

public sealed class JitApiTests_Postgres() : JitApiTests(new PostgresDatabase());

/// <summary>The JIT API end to end in-process, on each storage provider.</summary>
public abstract class JitApiTests(ITestDatabase database) : IAsyncLifetime
{
    private const string V = "api-version=2020-01-01";
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(database);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Whoami_OwnerToken_IsOwner_AndNoTokenIs401Problem()
    {
        var me = await _server.Owner.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, TestContext.Current.CancellationToken);
        Assert.Equal(("owner", "Owner", _server.Sub.ToLowerInvariant()), (me!.Principal, Assert.Single(me.Roles).Role, me.Roles[0].Scope));
        Assert.True(Guid.TryParse(me.SubscriptionId, out _));
        await Problem.AssertAsync(await _server.Client(null).GetAsync("/api/v1/whoami", TestContext.Current.CancellationToken), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await _server.Client("dbt_not-a-real-token-000000000000").GetAsync("/api/v1/whoami", TestContext.Current.CancellationToken), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Enroll_TokenIsSingleUse_AndOnlyTheCredentialHashIsStored()
    {
        var ct = TestContext.Current.CancellationToken;
        var created = await _server.Owner.PostAsJsonAsync("/api/v1/enrollment-tokens", new EnrollmentTokenCreateRequest { Uses = 1, Ttl = "10m" }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest, ct);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.EnrollmentTokenCreated, ct))!.Token;
        var enroll = new AgentEnrollRequest { Token = token, Name = "web-1", Addresses = ["198.18.0.11"] };
        var first = await _server.Client(null).PostAsJsonAsync("/agent/v1/enroll", enroll, DrawbridgeJson.Wire.AgentEnrollRequest, ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var credential = (await first.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.AgentEnrollResponse, ct))!.Credential;

        enroll.Name = "web-2";
        await Problem.AssertAsync(await _server.Client(null).PostAsJsonAsync("/agent/v1/enroll", enroll, DrawbridgeJson.Wire.AgentEnrollRequest, ct), HttpStatusCode.Unauthorized);

        var stored = await _server.DbAsync(db => db.Machines.Select(m => m.AgentCredentialHash).SingleAsync(ct));
        Assert.Equal(Secrets.Hash(credential), stored);
        foreach (var file in Directory.GetFiles(_server.DataDirectory, "drawbridge.db*"))
        {
            Assert.DoesNotContain(credential, System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file, ct)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Enroll_NameTaken_Is409_AndBadNameIs400()
    {
        await _server.EnrollAsync("h1");
        var ct = TestContext.Current.CancellationToken;
        var created = await _server.Owner.PostAsJsonAsync("/api/v1/enrollment-tokens", new EnrollmentTokenCreateRequest { Uses = 5 }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest, ct);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.EnrollmentTokenCreated, ct))!.Token;
        await Problem.AssertAsync(await _server.Client(null).PostAsJsonAsync("/agent/v1/enroll", new AgentEnrollRequest { Token = token, Name = "H1" }, DrawbridgeJson.Wire.AgentEnrollRequest, ct), HttpStatusCode.Conflict);
        await Problem.AssertAsync(await _server.Client(null).PostAsJsonAsync("/agent/v1/enroll", new AgentEnrollRequest { Token = token, Name = "../etc" }, DrawbridgeJson.Wire.AgentEnrollRequest, ct), HttpStatusCode.BadRequest, "name");
        await Problem.AssertAsync(await _server.Client(null).PostAsJsonAsync("/agent/v1/enroll", new AgentEnrollRequest { Token = token, Name = "ok", Addresses = ["10.0.0.300"] }, DrawbridgeJson.Wire.AgentEnrollRequest, ct), HttpStatusCode.BadRequest, "addresses[0]");
    }

    [Fact]
    public async Task Policy_PutGetListDelete_RoundTripsInAzureShape()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("h1");
        await _server.EnrollAsync("h2");
        var put = await _server.PutPolicyAsync($$$"""
            {"kind":"Basic","properties":{"virtualMachines":[
              {"id":"{{{_server.VmId("h1")}}}","ports":[{"number":22,"protocol":"TCP","allowedSourceAddressPrefixes":["198.18.0.0/24","fd00:db::/64"],"maxRequestAccessDuration":"PT1H"}]},
              {"id":"{{{_server.VmId("h2")}}}","ports":[{"number":3389,"protocol":"*","allowedSourceAddressPrefix":"*"}]}]}}
            """);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var policy = (await put.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct))!;
        Assert.Equal("Microsoft.Security/locations/jitNetworkAccessPolicies", policy.Type);
        Assert.Equal(_server.PolicyPath(), policy.Id);
        var h1 = policy.Properties!.VirtualMachines![0];
        Assert.Equal(["198.18.0.0/24", "fd00:db::/64"], h1.Ports![0].AllowedSourceAddressPrefixes!);
        Assert.Equal("PT1H", h1.Ports[0].MaxRequestAccessDuration);
        Assert.Equal("PT3H", policy.Properties.VirtualMachines[1].Ports![0].MaxRequestAccessDuration);

        foreach (var list in new[]
        {
            $"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessPolicies",
            $"{_server.Sub}/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies",
            $"{_server.Sub}/resourceGroups/default/providers/Microsoft.Security/jitNetworkAccessPolicies",
            $"{_server.Sub}/resourceGroups/default/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies",
        })
        {
            var listed = await _server.Owner.GetFromJsonAsync($"{list}?{V}", DrawbridgeJson.Wire.ArmListJitNetworkAccessPolicy, ct);
            Assert.Equal("default", Assert.Single(listed!.Value).Name);
        }

        var other = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/locations/elsewhere/jitNetworkAccessPolicies?{V}", DrawbridgeJson.Wire.ArmListJitNetworkAccessPolicy, ct);
        Assert.Empty(other!.Value);

        var versionsBefore = await _server.DbAsync(db => db.Machines.OrderBy(m => m.Name).Select(m => m.StateVersion).ToListAsync(ct));
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.DeleteAsync($"{_server.PolicyPath()}?{V}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Owner.DeleteAsync($"{_server.PolicyPath()}?{V}", ct)).StatusCode);
        await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.PolicyPath()}?{V}", ct), HttpStatusCode.NotFound);
        var versionsAfter = await _server.DbAsync(db => db.Machines.OrderBy(m => m.Name).Select(m => m.StateVersion).ToListAsync(ct));
        Assert.All(versionsBefore.Zip(versionsAfter), pair => Assert.True(pair.Second > pair.First, "deleting the policy publishes a new state"));
    }

    public static TheoryData<string, string> BadPolicies => new()
    {
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":70000}]}]}}""", "properties.virtualMachines[0].ports[0].number" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":-1}]}]}}""", "properties.virtualMachines[0].ports[0].number" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"allowedSourceAddressPrefix":"10.0.0.0/33"}]}]}}""", "properties.virtualMachines[0].ports[0].allowedSourceAddressPrefix" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"allowedSourceAddressPrefixes":["10.0.0.0/8","x"]}]}]}}""", "properties.virtualMachines[0].ports[0].allowedSourceAddressPrefixes[1]" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"maxRequestAccessDuration":"P2D"}]}]}}""", "properties.virtualMachines[0].ports[0].maxRequestAccessDuration" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"maxRequestAccessDuration":"P100Y"}]}]}}""", "properties.virtualMachines[0].ports[0].maxRequestAccessDuration" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"protocol":"ICMP"}]}]}}""", "properties.virtualMachines[0].ports[0].protocol" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22},{"number":22}]}]}}""", "properties.virtualMachines[0].ports[1].number" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[]}]}}""", "properties.virtualMachines[0].ports" },
        { """{"properties":{"virtualMachines":[{"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h1","ports":[{"number":22}]}]}}""", "properties.virtualMachines[0].id" },
        { """{"properties":{"virtualMachines":[{"id":"not-an-id","ports":[{"number":22}]}]}}""", "properties.virtualMachines[0].id" },
        { """{"properties":{"virtualMachines":[]}}""", "properties.virtualMachines" },
        { """{}""", "properties.virtualMachines" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":"twenty-two"}]}]}}""", "properties.virtualMachines[0].ports[0].number" },
        { """{"properties":""", "properties" },
        { """[1,2,3]""", "$" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[{"number":22,"allowedSourceAddressPrefixes":[null]}]}]}}""", "properties.virtualMachines[0].ports[0].allowedSourceAddressPrefixes[0]" },
        { """{"properties":{"virtualMachines":[{"id":"VM","ports":[null]}]}}""", "properties.virtualMachines[0].ports[0]" },
        { """{"properties":{"virtualMachines":[null]}}""", "properties.virtualMachines[0]" },
    };

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public async Task Policy_BadInput_IsProblemNamingTheField_AndChangesNothing(string json, string field)
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var before = await StoreSnapshot.TakeAsync(_server);
        var response = await _server.PutPolicyAsync(json.Replace("\"VM\"", $"\"{_server.VmId("h1")}\"", StringComparison.Ordinal));
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
    }

    [Fact]
    public async Task Policy_MachineAlreadyInAnotherPolicy_IsRefused()
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var response = await _server.PutPolicyAsync($$$"""{"properties":{"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}","ports":[{"number":3389}]}]}}""", "other");
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "properties.virtualMachines[0].id", "already protected by policy 'default'");
    }

    [Fact]
    public async Task Initiate_Defaults_OpenForTheCallersAddress_ThenActiveWhenTheAgentApplies()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var client = _server.Client(TestServer.OwnerToken, "198.18.0.100");
        var request = await Responses.RequestAsync(await _server.InitiateAsync(client, """[{"number":22,"duration":"PT1H"}]"""));
        var port = request.VirtualMachines.Single().Ports.Single();
        Assert.Equal("198.18.0.100", port.AllowedSourceAddressPrefix);
        Assert.Equal(_server.Time.GetUtcNow().AddHours(1), port.EndTimeUtc);
        Assert.Equal(("Initiated", "UserRequested", "Approved"), (port.Status, port.StatusReason, port.State));
        Assert.Equal("owner", request.Requestor);
        Assert.Equal("test", request.Justification);

        var state = await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct);
        var grant = Assert.Single(state!.Grants);
        Assert.Equal(("198.18.0.100", "tcp", 22), (grant.Source, grant.Protocol, grant.Port));
        Assert.Equal([22], state.ProtectedPorts.Select(p => p.Number));

        // The agent applied an older version: not yet active.
        var applied = await agent.PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = state.Version - 1 }, DrawbridgeJson.Wire.AgentAppliedReport, ct);
        Assert.Equal(HttpStatusCode.NoContent, applied.StatusCode);
        Assert.Equal([GrantStatus.Approved], await Responses.StatusesAsync(_server));

        await agent.PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = state.Version }, DrawbridgeJson.Wire.AgentAppliedReport, ct);
        var fetched = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{request.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
        Assert.Equal("Active", fetched!.VirtualMachines[0].Ports[0].State);

        var policy = await _server.Owner.GetFromJsonAsync($"{_server.PolicyPath()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct);
        Assert.Equal(request.Id, Assert.Single(policy!.Properties!.Requests!).Id);

        await Problem.AssertAsync(await agent.PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = state.Version + 5 }, DrawbridgeJson.Wire.AgentAppliedReport, ct), HttpStatusCode.BadRequest, "version");
    }

    [Fact]
    public async Task AppliedReports_FromManyAgentsAtOnce_AllLand_ActivateTheirGrants_AndAreAudited()
    {
        // Reports are written many to a transaction (AppliedReportWriter); each caller must still see only its own.
        var ct = TestContext.Current.CancellationToken;
        const int count = 12;
        var agents = new List<HttpClient>();
        for (var i = 0; i < count; i++)
        {
            agents.Add((await _server.EnrollAsync($"h{i}")).Agent);
        }

        var vms = string.Join(',', Enumerable.Range(0, count).Select(i =>
            $$"""{"id":"{{_server.VmId($"h{i}")}}","ports":[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]}"""));
        Assert.Equal(HttpStatusCode.OK, (await _server.PutPolicyAsync($$$"""{"properties":{"virtualMachines":[{{{vms}}}]}}""")).StatusCode);
        for (var i = 0; i < count; i++)
        {
            await Responses.RequestAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22}]""", $"h{i}"));
        }

        var states = await Task.WhenAll(agents.Select(a => a.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct)));
        var answers = await Task.WhenAll(agents.Select((a, i) =>
            a.PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = states[i]!.Version, ListeningPorts = [22] }, DrawbridgeJson.Wire.AgentAppliedReport, ct)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
        Assert.Equal(Enumerable.Repeat(GrantStatus.Active, count), await Responses.StatusesAsync(_server));
        var machines = await _server.DbAsync(db => db.Machines.ToDictionaryAsync(m => m.Name, m => (m.AppliedVersion, m.ListeningPorts), ct));
        Assert.All(Enumerable.Range(0, count), i => Assert.Equal((states[i]!.Version, "22"), machines[$"h{i}"]));
        Assert.Equal(count, await _server.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == Authorization.Actions.AgentApply, ct)));

        // A late report of an older version does not lower what the machine has applied.
        var late = await agents[0].PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = 0 }, DrawbridgeJson.Wire.AgentAppliedReport, ct);
        Assert.Equal(HttpStatusCode.NoContent, late.StatusCode);
        Assert.Equal(states[0]!.Version, await _server.DbAsync(db => db.Machines.Where(m => m.Name == "h0").Select(m => m.AppliedVersion).SingleAsync(ct)));
    }

    public static TheoryData<string, string, string> BadInitiates => new()
    {
        { """[{"number":22,"duration":"PT4H"}]""", "virtualMachines[0].ports[0].duration", "longer than port 22's maximum" },
        { """[{"number":22,"duration":"P100Y"}]""", "virtualMachines[0].ports[0].duration", "not a duration" },
        { """[{"number":22,"duration":"0s"}]""", "virtualMachines[0].ports[0].duration", "already passed" },
        { """[{"number":22,"allowedSourceAddressPrefix":"10.9.9.9"}]""", "virtualMachines[0].ports[0].allowedSourceAddressPrefix", "outside port 22's allowed sources" },
        { """[{"number":22,"allowedSourceAddressPrefix":"0.0.0.0/0"}]""", "virtualMachines[0].ports[0].allowedSourceAddressPrefix", "outside" },
        { """[{"number":22,"allowedSourceAddressPrefix":"198.18.0.0/33"}]""", "virtualMachines[0].ports[0].allowedSourceAddressPrefix", "prefix length" },
        { """[{"number":3389}]""", "virtualMachines[0].ports[0].number", "not enabled" },
        { """[{"number":65536}]""", "virtualMachines[0].ports[0].number", "1..65535" },
        { """[{"number":22,"endTimeUtc":"2020-01-01T00:00:00Z"}]""", "virtualMachines[0].ports[0].endTimeUtc", "already passed" },
        { """[{"number":22,"endTimeUtc":"yesterday"}]""", "virtualMachines[0].ports[0].endTimeUtc", "not valid JSON" },
        { """[]""", "virtualMachines[0].ports", "between 1 and" },
        { """[null]""", "virtualMachines[0].ports[0]", "must be an object" },
        { """[{"number":22,"allowedSourceAddressPrefixes":[null,"198.18.0.100"]}]""", "virtualMachines[0].ports[0].allowedSourceAddressPrefixes[0]", "required" },
    };

    [Theory]
    [MemberData(nameof(BadInitiates))]
    public async Task Initiate_OutOfPolicy_IsProblemNamingTheField_AndChangesNothing(string ports, string field, string message)
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1", """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefixes":["198.18.0.0/24"],"maxRequestAccessDuration":"PT3H"}]""");
        var before = await StoreSnapshot.TakeAsync(_server);
        var response = await _server.InitiateAsync(_server.Client(TestServer.OwnerToken, "198.18.0.100"), ports);
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, field, message);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
        var refusals = await _server.DbAsync(db => db.AuditEvents.CountAsync(e => e.Result == "Refused"));
        Assert.True(message == "not valid JSON" || refusals > 0, "a refused initiate is audited");
    }

    [Fact]
    public async Task Initiate_UnknownMachineOrMachineOutsidePolicy_IsRefused()
    {
        await _server.EnrollAsync("h1");
        await _server.EnrollAsync("h2");
        await _server.EnableJitAsync("h1");
        await Problem.AssertAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22}]""", "nope"), HttpStatusCode.BadRequest, "virtualMachines[0].id", "not a known virtual machine");
        await Problem.AssertAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22}]""", "h2"), HttpStatusCode.BadRequest, "virtualMachines[0].id", "not part of policy");
        await Problem.AssertAsync(await _server.Owner.PostAsync($"{_server.PolicyPath("missing")}/initiate?{V}", TestServer.Json("{}"), TestContext.Current.CancellationToken), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Initiate_ShortMinimumOff_RefusesUnderFiveMinutes()
    {
        await using var strict = await TestServer.StartAsync(database, new() { ["Drawbridge:Jit:MinimumRequestDuration"] = "PT5M" });
        await strict.EnrollAsync("h1");
        await strict.EnableJitAsync("h1");
        var response = await strict.InitiateAsync(strict.Owner, """[{"number":22,"duration":"4m"}]""");
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "virtualMachines[0].ports[0].duration", "shorter than the minimum PT5M");
        strict.DeleteData();
    }

    [Fact]
    public async Task Limits_InitiateRateAndLiveGrantsPerUser_AreEnforcedWithClearErrors()
    {
        await using var limited = await TestServer.StartAsync(database, new()
        {
            ["Drawbridge:Limits:InitiatePerMinute"] = "5",
            ["Drawbridge:Limits:MaxActiveGrantsPerUser"] = "2",
        });
        await limited.EnrollAsync("h1");
        await limited.EnableJitAsync("h1",
            """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"},{"number":3389,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]""");
        var client = limited.Client(TestServer.OwnerToken, "198.18.0.100");
        await Responses.RequestAsync(await limited.InitiateAsync(client, """[{"number":22,"duration":"1h"}]"""));
        await Responses.RequestAsync(await limited.InitiateAsync(client, """[{"number":22,"duration":"1h","allowedSourceAddressPrefix":"198.18.0.101"}]"""));

        var before = await StoreSnapshot.TakeAsync(limited);
        var third = await limited.InitiateAsync(client, """[{"number":22,"duration":"1h","allowedSourceAddressPrefix":"198.18.0.102"}]""");
        await Problem.AssertAsync(third, HttpStatusCode.BadRequest, "virtualMachines", "limit of 2");
        Assert.Equal(before, await StoreSnapshot.TakeAsync(limited));

        // Renewing one grant and adding another is still one too many: refused, and the renewal's supersede rolled back.
        var renewAndAdd = await limited.InitiateAsync(client, """[{"number":22,"duration":"2h"},{"number":3389,"duration":"1h"}]""");
        await Problem.AssertAsync(renewAndAdd, HttpStatusCode.BadRequest, "virtualMachines", "limit of 2");
        Assert.Equal(before, await StoreSnapshot.TakeAsync(limited));

        // Renewing an existing grant supersedes it, so it does not count against the limit.
        await Responses.RequestAsync(await limited.InitiateAsync(client, """[{"number":22,"duration":"2h"}]"""));

        var limitedOut = await limited.InitiateAsync(client, """[{"number":22,"duration":"1h"}]""");
        await Problem.AssertAsync(limitedOut, HttpStatusCode.TooManyRequests);
        Assert.True(limitedOut.Headers.RetryAfter is not null);
        limited.DeleteData();
    }

    // Concurrent initiates are written many to a transaction (InitiateWriter); each must still be decided on what the
    // ones before it wrote.
    [Fact]
    public async Task Initiate_ConcurrentRequestsOfOnePrincipal_StopExactlyAtTheCap()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var limited = await TestServer.StartAsync(database, new() { ["Drawbridge:Limits:MaxActiveGrantsPerUser"] = "3" });
        await limited.EnrollAsync("h1");
        await limited.EnableJitAsync("h1");
        var client = limited.Client(TestServer.OwnerToken, "198.18.0.100");
        var responses = await Task.WhenAll(Enumerable.Range(1, 12).Select(i =>
            limited.InitiateAsync(client, $$"""[{"number":22,"duration":"1h","allowedSourceAddressPrefix":"198.18.2.{{i}}"}]""")));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Accepted))
        {
            await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "virtualMachines", "limit of 3");
        }

        Assert.Equal(3, await limited.DbAsync(db => db.Grants.CountAsync(g => g.Status == GrantStatus.Approved, ct)));
        Assert.Equal(3, await limited.DbAsync(db => db.AccessRequests.CountAsync(ct)));
        var verification = await limited.Owner.GetFromJsonAsync("/api/v1/audit/verify", DrawbridgeJson.Wire.AuditVerification, ct);
        Assert.True(verification!.Valid, verification.Reason);
        limited.DeleteData();
    }

    [Fact]
    public async Task Initiate_ConcurrentRefusals_RollBackOnlyTheirOwnSupersedes()
    {
        // Each request renews 22 and adds 3389 (two live grants, the cap). The first one written is accepted; each after
        // it supersedes its 22, still counts its 3389, and is refused; rolled back to its savepoint, its supersede of the
        // accepted 22 must not stay, even when written in the same transaction.
        var ct = TestContext.Current.CancellationToken;
        await using var limited = await TestServer.StartAsync(database, new() { ["Drawbridge:Limits:MaxActiveGrantsPerUser"] = "2" });
        await limited.EnrollAsync("h1");
        await limited.EnableJitAsync("h1",
            """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"},{"number":3389,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]""");
        var client = limited.Client(TestServer.OwnerToken, "198.18.0.100");
        var responses = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => limited.InitiateAsync(client,
            $$"""[{"number":22,"duration":"1h"},{"number":3389,"duration":"1h","allowedSourceAddressPrefix":"198.18.3.{{i}}"}]""")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        var live = await limited.DbAsync(db => db.Grants.Where(g => g.Status == GrantStatus.Approved).Select(g => g.Port).OrderBy(p => p).ToListAsync(ct));
        Assert.Equal([22, 3389], live);
        Assert.Equal(2, await limited.DbAsync(db => db.Grants.CountAsync(ct)));
        limited.DeleteData();
    }

    [Fact]
    public async Task Initiate_ConcurrentRenewalsOfOneGrant_LeaveOneLiveGrant()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var client = _server.Client(TestServer.OwnerToken, "198.18.0.100");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _server.InitiateAsync(client, """[{"number":22,"duration":"1h"}]""")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var grants = await _server.DbAsync(db => db.Grants.Select(g => new { g.Status, g.EndReason }).ToListAsync(ct));
        Assert.Equal(8, grants.Count);
        Assert.Single(grants, g => g.Status == GrantStatus.Approved);
        Assert.Equal(7, grants.Count(g => (g.Status, g.EndReason) == (GrantStatus.Revoked, GrantEndReason.NewerRequestInitiated)));
    }

    [Fact]
    public async Task Initiate_IPv6SourceInsidePrefix_IsGranted()
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1", """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefixes":["fd00:db::/64"],"maxRequestAccessDuration":"PT3H"}]""");
        var request = await Responses.RequestAsync(await _server.InitiateAsync(_server.Client(TestServer.OwnerToken, "fd00:db::100"), """[{"number":22,"duration":"10m"}]"""));
        Assert.Equal("fd00:db::100", request.VirtualMachines[0].Ports[0].AllowedSourceAddressPrefix);
    }

    [Fact]
    public async Task Initiate_SameMachinePortAndSource_SupersedesTheOlderGrant()
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var client = _server.Client(TestServer.OwnerToken, "198.18.0.100");
        var first = await Responses.RequestAsync(await _server.InitiateAsync(client, """[{"number":22,"duration":"1h"}]"""));
        var other = await Responses.RequestAsync(await _server.InitiateAsync(client, """[{"number":22,"duration":"1h","allowedSourceAddressPrefix":"198.18.0.101"}]"""));
        await Responses.RequestAsync(await _server.InitiateAsync(client, """[{"number":22,"duration":"2h"}]"""));

        var old = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{first.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, TestContext.Current.CancellationToken);
        Assert.Equal(("Revoked", "NewerRequestInitiated"), (old!.VirtualMachines[0].Ports[0].Status, old.VirtualMachines[0].Ports[0].StatusReason));
        var untouched = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{other.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, TestContext.Current.CancellationToken);
        Assert.Equal("Initiated", untouched!.VirtualMachines[0].Ports[0].Status);
    }

    [Fact]
    public async Task Initiate_SourcesLongerThanTheIndexedHead_AreStoredAndSupersededByTheWholeValue()
    {
        // 64 IPv6 sources, 2.7 KB: longer than a PostgreSQL btree entry may be, so the supersede index holds only the
        // first 256 characters. Two lists alike in all but their last prefix must not supersede each other.
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        // Random four-digit groups, so that PostgreSQL cannot compress the list below its limit: each prefix a /127 (its
        // last group even), none starting with ffff, so the one that differs sorts last.
        var random = new Random(7);
        string RandomPrefix() => $"{random.Next(0x2000, 0xf000):x4}:{string.Join(':', Enumerable.Range(0, 6).Select(_ => $"{random.Next(0x1000, 0x10000):x4}"))}:{random.Next(0x800, 0x8000) * 2:x4}/127";
        var shared = Enumerable.Range(0, 63).Select(_ => RandomPrefix()).ToList();
        string Ports(string last) => $$"""[{"number":22,"duration":"1h","allowedSourceAddressPrefixes":[{{string.Join(',', shared.Append(last).Select(p => $"\"{p}\""))}}]}]""";
        var client = _server.Client(TestServer.OwnerToken, "198.18.0.100");
        var first = await Responses.RequestAsync(await _server.InitiateAsync(client, Ports("ffff::10/127")));
        var other = await Responses.RequestAsync(await _server.InitiateAsync(client, Ports("ffff::20/127")));
        await Responses.RequestAsync(await _server.InitiateAsync(client, Ports("ffff::10/127")));

        Assert.True(await _server.DbAsync(db => db.Grants.MaxAsync(g => g.Sources.Length, ct)) > 2704);
        var old = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{first.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
        Assert.Equal(("Revoked", "NewerRequestInitiated"), (old!.VirtualMachines[0].Ports[0].Status, old.VirtualMachines[0].Ports[0].StatusReason));
        var untouched = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{other.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
        Assert.Equal("Initiated", untouched!.VirtualMachines[0].Ports[0].Status);
    }

    [Fact]
    public async Task Revoke_EndsTheGrantAtOnce_AndOnlyOwnersAndAdminsSeeIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var alice = _server.Client(await _server.CreateUserTokenAsync("alice", "JitRequester"), "198.18.0.100");
        var bob = _server.Client(await _server.CreateUserTokenAsync("bob", "JitRequester"), "198.18.0.101");
        var request = await Responses.RequestAsync(await _server.InitiateAsync(alice, """[{"number":22,"duration":"1h"}]"""));
        var before = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Single(before.Grants);

        var revokePath = $"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{request.Guid()}/revoke?{V}";
        await Problem.AssertAsync(await bob.PostAsync(revokePath, null, ct), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await bob.GetAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{request.Guid()}?{V}", ct), HttpStatusCode.NotFound);
        Assert.Empty((await bob.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests?{V}", DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest, ct))!.Value);
        Assert.Single((await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests?active=true&{V}", DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest, ct))!.Value);

        var revoked = await Responses.RequestAsync(await alice.PostAsync(revokePath, null, ct));
        Assert.Equal(("Revoked", "UserRequested", "alice"), (revoked.VirtualMachines[0].Ports[0].Status, revoked.VirtualMachines[0].Ports[0].StatusReason, revoked.VirtualMachines[0].Ports[0].EndedBy));
        var after = (await agent.GetFromJsonAsync($"/agent/v1/state?after={before.Version}", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Empty(after.Grants);
        Assert.Empty((await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests?active=true&{V}", DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest, ct))!.Value);
        await Problem.AssertAsync(await alice.PostAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/not-a-guid/revoke?{V}", null, ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Initiate_IsAuthorizedPerMachine_AndThePolicyShowsOnlyWhatTheCallerMaySee()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var host in new[] { "h1", "h2", "h3" })
        {
            await _server.EnrollAsync(host);
        }

        var port = """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]""";
        Assert.Equal(HttpStatusCode.OK, (await _server.PutPolicyAsync($$$"""{"properties":{"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}","ports":{{{port}}}},{"id":"{{{_server.VmId("h2")}}}","ports":{{{port}}}},{"id":"{{{_server.VmId("h3")}}}","ports":{{{port}}}}]}}""")).StatusCode);

        // Dana may open h1, may only look at h2, and does not know h3 exists.
        var dana = _server.Client(await _server.CreateUserTokenAsync("dana", "JitRequester", _server.VmId("h1")));
        await _server.DbAsync(async db =>
        {
            db.RoleAssignments.Add(new RoleAssignment { Id = Guid.NewGuid(), Principal = "dana", Role = "SecurityReader", Scope = _server.VmId("h2").ToLowerInvariant(), CreatedBy = "test" });
            return await db.SaveChangesAsync(ct);
        });
        var before = await StoreSnapshot.TakeAsync(_server);
        await Problem.AssertAsync(await _server.InitiateAsync(dana, """[{"number":22,"duration":"1h"}]""", "h2"), HttpStatusCode.Forbidden);
        var hidden = await Problem.AssertAsync(await _server.InitiateAsync(dana, """[{"number":22,"duration":"1h"}]""", "h3"), HttpStatusCode.BadRequest, "virtualMachines[0].id");
        Assert.Contains("is not a known virtual machine", hidden.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
        await Responses.RequestAsync(await _server.InitiateAsync(dana, """[{"number":22,"duration":"1h"}]""", "h1"));

        var policy = (await dana.GetFromJsonAsync($"{_server.PolicyPath()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct))!;
        Assert.Equal(["h1", "h2"], policy.Properties!.VirtualMachines!.Select(m => m.Id![(m.Id!.LastIndexOf('/') + 1)..]));
        var owners = (await _server.Owner.GetFromJsonAsync($"{_server.PolicyPath()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct))!;
        Assert.Equal(3, owners.Properties!.VirtualMachines!.Count);
    }

    [Fact]
    public async Task Roles_RequesterCannotWritePolicies_ReaderCannotInitiate()
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var requester = _server.Client(await _server.CreateUserTokenAsync("alice", "JitRequester"));
        var reader = _server.Client(await _server.CreateUserTokenAsync("rita", "SecurityReader"));
        var ct = TestContext.Current.CancellationToken;
        await Problem.AssertAsync(await requester.PutAsync($"{_server.PolicyPath()}?{V}", TestServer.Json("{}"), ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await requester.DeleteAsync($"{_server.PolicyPath()}?{V}", ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await requester.PostAsync("/api/v1/enrollment-tokens", TestServer.Json("{}"), ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await _server.InitiateAsync(reader, """[{"number":22}]"""), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"{_server.PolicyPath()}?{V}", ct)).StatusCode);
    }

    [Fact]
    public async Task Expiry_AtEndTime_EndsTheGrantAndPublishesAStateWithoutIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        await Responses.RequestAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"10s"}]"""));
        var state = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;

        _server.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(TimeSpan.FromSeconds(1), await _server.RunExpiryAsync());
        Assert.Equal([GrantStatus.Approved], await Responses.StatusesAsync(_server));

        _server.Time.Advance(TimeSpan.FromSeconds(1));
        await _server.RunExpiryAsync();
        Assert.Equal([GrantStatus.Expired], await Responses.StatusesAsync(_server));
        var next = (await agent.GetFromJsonAsync($"/agent/v1/state?after={state.Version}", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.True(next.Version > state.Version);
        Assert.Empty(next.Grants);
        Assert.Equal(1, await _server.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action.EndsWith("/expire"), ct)));
    }

    [Fact]
    public async Task Expiry_IsWokenOnlyByAGrantEndingBeforeItsNextPlannedPass()
    {
        var expiry = _server.Services.GetRequiredService<GrantExpiryService>();
        var now = _server.Time.GetUtcNow();

        // Until its first pass has planned the next one, every grant wakes it; then (no grants) it sleeps MaxSleep.
        for (var i = 0; i < 200 && expiry.Wake(now.AddHours(1)); i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.False(expiry.Wake(now + GrantExpiryService.MaxSleep + TimeSpan.FromSeconds(1)));
        Assert.True(expiry.Wake(now + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Restart_KeepsEveryRequest_AndEndsGrantsThatExpiredWhileDown()
    {
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var request = await Responses.RequestAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"30s"}]"""));
        var subscription = _server.SubscriptionId;
        await _server.DisposeAsync();

        _server.Time.Advance(TimeSpan.FromMinutes(1));
        _server = await TestServer.StartAsync(database, previous: _server);
        Assert.Equal(subscription, _server.SubscriptionId);
        await _server.RunExpiryAsync();
        var fetched = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{request.Guid()}?{V}", DrawbridgeJson.Wire.JitNetworkAccessRequest, TestContext.Current.CancellationToken);
        Assert.Equal(("Revoked", "Expired"), (fetched!.VirtualMachines[0].Ports[0].Status, fetched.VirtualMachines[0].Ports[0].StatusReason));
    }

    [Fact]
    public async Task LongPoll_AnswersAtOnceOnChange_And204WhenNothingChanges()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        var state = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;

        var waiting = agent.GetAsync($"/agent/v1/state?after={state.Version}", ct);
        await Task.Delay(200, ct);
        Assert.False(waiting.IsCompleted);
        await _server.EnableJitAsync("h1");
        var changed = await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var next = (await changed.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Equal([22], next.ProtectedPorts.Select(p => p.Number));

        var idle = agent.GetAsync($"/agent/v1/state?after={next.Version}", ct);
        for (var i = 0; i < 50 && !idle.IsCompleted; i++)
        {
            _server.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, ct);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await idle.WaitAsync(TimeSpan.FromSeconds(10), ct)).StatusCode);
    }

    [Fact]
    public async Task PollCarryingAReport_WritesTheReportFirst_ThenWaits_AndABadReportChangesNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var request = await Responses.RequestAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"PT1H"}]"""));
        var state = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Equal([GrantStatus.Approved], await Responses.StatusesAsync(_server));

        // A version no server published: refused at once, nothing written, no wait.
        var bad = await agent.PostAsJsonAsync($"/agent/v1/state?after={state.Version}", new AgentAppliedReport { Version = state.Version + 5, Error = "x" },
            DrawbridgeJson.Wire.AgentAppliedReport, ct);
        await Problem.AssertAsync(bad, HttpStatusCode.BadRequest, "version");
        Assert.Equal([GrantStatus.Approved], await Responses.StatusesAsync(_server));
        Assert.Null(await _server.DbAsync(db => db.Machines.Where(m => m.Name == "h1").Select(m => m.AgentLastError).SingleAsync(ct)));

        // The report of the applied state rides the next poll: the grant is active while the poll still waits.
        var waiting = agent.PostAsJsonAsync($"/agent/v1/state?after={state.Version}", new AgentAppliedReport { Version = state.Version }, DrawbridgeJson.Wire.AgentAppliedReport, ct);
        var port = () => _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/jitNetworkAccessRequests/{request.Guid()}?{V}",
            DrawbridgeJson.Wire.JitNetworkAccessRequest, ct);
        for (var i = 0; i < 100 && (await port())!.VirtualMachines[0].Ports[0].State != "Active"; i++)
        {
            await Task.Delay(50, ct);
        }

        Assert.Equal("Active", (await port())!.VirtualMachines[0].Ports[0].State);
        Assert.False(waiting.IsCompleted);

        // ...and answers with the next state like any poll.
        await _server.EnableJitAsync("h1", """[{"number":3389,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]""");
        var next = (await (await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct)).Content.ReadFromJsonAsync(DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Equal([3389], next.ProtectedPorts.Select(p => p.Number));
    }

    [Fact]
    public async Task LongPoll_WokenByAnInitiate_AnswersWithTheVersionItCommitted()
    {
        // The initiate hands its committed version to the waiting poll, which then skips re-reading its machine.
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        var state = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Empty(state.Grants);

        var waiting = agent.GetAsync($"/agent/v1/state?after={state.Version}", ct);
        await Task.Delay(200, ct);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(HttpStatusCode.Accepted, (await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"1h"}]""")).StatusCode);
        var woken = (await (await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct)).Content.ReadFromJsonAsync(DrawbridgeJson.Wire.DesiredState, ct))!;

        Assert.Equal(state.Version + 1, woken.Version);
        Assert.Equal([22], woken.Grants.Select(g => g.Port));
        var again = (await agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.Equal((woken.Version, woken.Grants.Count), (again.Version, again.Grants.Count));
    }

    [Fact]
    public async Task Channels_AgentCredentialIsNotAUserToken_AndUserTokenIsNotAnAgent()
    {
        var ct = TestContext.Current.CancellationToken;
        var (agent, _) = await _server.EnrollAsync("h1");
        await Problem.AssertAsync(await agent.GetAsync($"{_server.PolicyPath()}?{V}", ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await _server.Owner.GetAsync("/agent/v1/state?after=0", ct), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ArmRoutes_CheckApiVersionSubscriptionAndResourceGroup()
    {
        var ct = TestContext.Current.CancellationToken;
        var missing = await Problem.AssertAsync(await _server.Owner.GetAsync(_server.PolicyPath(), ct), HttpStatusCode.BadRequest);
        Assert.Equal("MissingApiVersionParameter", missing.Error!.Code);
        var unknown = await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.PolicyPath()}?api-version=1999-01-01", ct), HttpStatusCode.BadRequest);
        Assert.Equal("InvalidApiVersionParameter", unknown.Error!.Code);
        var sub = await Problem.AssertAsync(await _server.Owner.GetAsync($"/subscriptions/{Guid.NewGuid()}/providers/Microsoft.Security/jitNetworkAccessPolicies?{V}", ct), HttpStatusCode.NotFound);
        Assert.Equal("SubscriptionNotFound", sub.Error!.Code);
        var rg = await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.Sub}/resourceGroups/nope/providers/Microsoft.Security/jitNetworkAccessPolicies?{V}", ct), HttpStatusCode.NotFound);
        Assert.Equal("ResourceGroupNotFound", rg.Error!.Code);
        await Problem.AssertAsync(await _server.Owner.GetAsync("/no/such/route", ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ObservedAddress_ForwardedForIsBelievedOnlyFromTrustedProxies()
    {
        var ct = TestContext.Current.CancellationToken;
        var direct = _server.Client(TestServer.OwnerToken, "198.18.0.100");
        direct.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.5");
        Assert.Equal("198.18.0.100", (await direct.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!.ObservedAddress);

        var proxied = _server.Client(TestServer.OwnerToken, "192.0.2.10");
        proxied.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.5");
        Assert.Equal("203.0.113.5", (await proxied.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!.ObservedAddress);
    }

    [Fact]
    public async Task Assessments_AgentWithoutJitIsUnhealthy_JitMakesItHealthy()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("h1");
        var path = $"{_server.Sub}/providers/Microsoft.Security/assessments?{V}";
        var before = Assert.Single((await _server.Owner.GetFromJsonAsync(path, DrawbridgeJson.Wire.ArmListSecurityAssessment, ct))!.Value);
        Assert.Equal(($"{_server.VmId("h1")}/providers/Microsoft.Security/assessments/805651bc-6ecd-4c73-9b55-97a19d0582d0", "Unhealthy", "ManagementPortsUnrestricted"),
            (before.Id, before.Properties!.Status!.Code, before.Properties.Status.Cause));

        await _server.EnableJitAsync("h1");
        var after = await _server.Owner.GetFromJsonAsync($"{before.Id}?{V}", DrawbridgeJson.Wire.SecurityAssessment, ct);
        Assert.Equal("Healthy", after!.Properties!.Status!.Code);
        Assert.Contains("protects port(s) 22", after.Properties.Status.Description, StringComparison.Ordinal);
        await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.VmId("h1")}/providers/Microsoft.Security/assessments/unknown-key?{V}", ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Machines_ListAndGet_InComputeShape()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.EnrollAsync("h1", "198.18.0.11");
        await _server.EnableJitAsync("h1");
        var list = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01", DrawbridgeJson.Wire.ArmListVirtualMachine, ct);
        var vm = Assert.Single(list!.Value);
        Assert.Equal((_server.VmId("h1"), "Microsoft.Compute/virtualMachines", true), (vm.Id, vm.Type, vm.Properties!.JitEnabled));
        Assert.Equal(["198.18.0.11"], vm.Properties.Addresses!);
        Assert.Equal("Online", vm.Properties.Agent!.Status);
        await Problem.AssertAsync(await _server.Owner.GetAsync($"{_server.Sub}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/nope?api-version=2024-07-01", ct), HttpStatusCode.NotFound);
    }
}
