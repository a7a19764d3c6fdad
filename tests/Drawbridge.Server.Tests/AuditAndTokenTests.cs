using System.Net;
using System.Net.Http.Json;
using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

public sealed class AuditAndTokenTests_Sqlite() : AuditAndTokenTests(new SqliteDatabase());

public sealed class AuditAndTokenTests_Postgres() : AuditAndTokenTests(new PostgresDatabase());

public abstract class AuditAndTokenTests(ITestDatabase database) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(database);
        await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
        await Responses.RequestAsync(await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"1h"}]"""));
        await _server.InitiateAsync(_server.Owner, """[{"number":22,"duration":"P100Y"}]""");
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
        GC.SuppressFinalize(this);
    }

    private Task<AuditVerification?> VerifyAsync() =>
        _server.Owner.GetFromJsonAsync("/api/v1/audit/verify", DrawbridgeJson.Wire.AuditVerification, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Audit_RecordsAllowedAndRefusedDecisions_InAnIntactChain()
    {
        var events = await _server.Owner.GetFromJsonAsync("/api/v1/audit", DrawbridgeJson.Wire.ListAuditEventView, TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(1, events!.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Contains(events, e => e.Action!.EndsWith("initiate/action", StringComparison.Ordinal) && e.Result == "Allowed");
        Assert.Contains(events, e => e.Action!.EndsWith("initiate/action", StringComparison.Ordinal) && e.Result == "Refused" && e.Reason!.Contains("not a duration", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Action!.EndsWith("enroll/action", StringComparison.Ordinal) && e.Actor == "agent:h1");

        var verification = await VerifyAsync();
        Assert.True(verification!.Valid);
        Assert.Equal(events.Count, verification.Checked);
        Assert.Equal(events[^1].Hash, verification.HeadHash);
    }

    [Fact]
    public async Task Audit_Filters_AndExportsJsonLines()
    {
        var ct = TestContext.Current.CancellationToken;
        var agentOnly = await _server.Owner.GetFromJsonAsync("/api/v1/audit?actor=agent:h1", DrawbridgeJson.Wire.ListAuditEventView, ct);
        Assert.All(agentOnly!, e => Assert.Equal("agent:h1", e.Actor));
        Assert.NotEmpty(agentOnly!);
        var recent = await _server.Owner.GetFromJsonAsync("/api/v1/audit?since=1h&limit=2", DrawbridgeJson.Wire.ListAuditEventView, ct);
        Assert.Equal(2, recent!.Count);
        var lines = await _server.Owner.GetStringAsync("/api/v1/audit?format=jsonl", ct);
        Assert.All(lines.TrimEnd('\n').Split('\n'), line => Assert.NotNull(System.Text.Json.JsonSerializer.Deserialize(line, DrawbridgeJson.Wire.AuditEventView)));
        await Problem.AssertAsync(await _server.Owner.GetAsync("/api/v1/audit?since=yesterdayish", ct), HttpStatusCode.BadRequest, "since");
        // Further back than a clock reaches was a 500 (the subtraction overflowed).
        await Problem.AssertAsync(await _server.Owner.GetAsync("/api/v1/audit?since=999999d", ct), HttpStatusCode.BadRequest, "since");
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.GetAsync("/api/v1/audit?since=36500d&limit=1", ct)).StatusCode);
        var requester = _server.Client(await _server.CreateUserTokenAsync("alice", "JitRequester"));
        await Problem.AssertAsync(await requester.GetAsync("/api/v1/audit", ct), HttpStatusCode.Forbidden);
        var refused = await _server.Owner.GetFromJsonAsync("/api/v1/audit?actor=alice", DrawbridgeJson.Wire.ListAuditEventView, ct);
        Assert.Equal(("Refused", Actions.AuditRead, _server.Sub.ToLowerInvariant()), (Assert.Single(refused!).Result, refused![0].Action, refused[0].Scope));
    }

    [Fact]
    public async Task Audit_ConcurrentWriters_KeepOneUnbrokenChain()
    {
        var before = (await VerifyAsync())!.Checked;
        var clients = Enumerable.Range(0, 24).Select(i => _server.Client(TestServer.OwnerToken, $"198.18.1.{i + 1}")).ToList();
        var responses = await Task.WhenAll(clients.Select((c, i) => i % 3 == 0
            ? _server.InitiateAsync(c, """[{"number":22,"duration":"P100Y"}]""")
            : _server.InitiateAsync(c, """[{"number":22,"duration":"30m"}]""")));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.BadRequest, r.StatusCode.ToString()));

        var verification = await VerifyAsync();
        Assert.True(verification!.Valid, verification.Reason);
        Assert.Equal(before + clients.Count, verification.Checked);
    }

    [Fact]
    public async Task Verify_EditedEvent_IsNamed()
    {
        await _server.DbAsync(db => db.AuditEvents.Where(e => e.Sequence == 3).ExecuteUpdateAsync(s => s.SetProperty(e => e.Result, "Refused")));
        var verification = await VerifyAsync();
        Assert.Equal((false, 3L), (verification!.Valid, verification.FirstInvalidSequence));
        Assert.Contains("edited", verification.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DeletedEvent_IsNamed()
    {
        await _server.DbAsync(db => db.AuditEvents.Where(e => e.Sequence == 2).ExecuteDeleteAsync());
        var verification = await VerifyAsync();
        Assert.Equal((false, 3L), (verification!.Valid, verification.FirstInvalidSequence));
        Assert.Contains("removed", verification.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SwappedEvents_AreNamed()
    {
        // Swap two events' positions, as someone reordering history would.
        await _server.DbAsync(async db =>
        {
            await db.AuditEvents.Where(e => e.Sequence == 2).ExecuteUpdateAsync(s => s.SetProperty(e => e.Sequence, -2));
            await db.AuditEvents.Where(e => e.Sequence == 3).ExecuteUpdateAsync(s => s.SetProperty(e => e.Sequence, 2));
            return await db.AuditEvents.Where(e => e.Sequence == -2).ExecuteUpdateAsync(s => s.SetProperty(e => e.Sequence, 3));
        });
        var verification = await VerifyAsync();
        Assert.Equal((false, 2L), (verification!.Valid, verification.FirstInvalidSequence));
    }

    [Fact]
    public async Task Tokens_CreateShowOnce_ListWithoutSecret_RevokeStopsAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await Responses.CreatedAsync(await _server.Owner.PostAsJsonAsync("/api/v1/users", new UserCreateRequest { Name = "Alice" }, DrawbridgeJson.Wire.UserCreateRequest, ct));
        await Responses.CreatedAsync(await _server.Owner.PostAsJsonAsync("/api/v1/role-assignments",
            new RoleAssignmentCreateRequest { Principal = "alice", Role = "jitrequester" }, DrawbridgeJson.Wire.RoleAssignmentCreateRequest, ct));
        var created = await _server.Owner.PostAsJsonAsync("/api/v1/tokens", new ApiTokenCreateRequest { Principal = "ALICE", Ttl = "30d" }, DrawbridgeJson.Wire.ApiTokenCreateRequest, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ApiTokenView, ct))!;
        Assert.StartsWith("dbt_", token.Token, StringComparison.Ordinal);
        Assert.Equal("alice", token.Principal);

        var alice = _server.Client(token.Token);
        var me = (await alice.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
        Assert.Equal(("alice", "JitRequester"), (me.Principal, Assert.Single(me.Roles).Role));

        // Alice manages her own tokens only: she sees hers, not the owner's, and cannot make one for anybody else.
        var own = (await alice.GetFromJsonAsync("/api/v1/tokens", DrawbridgeJson.Wire.ListApiTokenView, ct))!;
        Assert.Equal([token.Id], own.Select(t => t.Id));
        await Problem.AssertAsync(await alice.PostAsJsonAsync("/api/v1/tokens", new ApiTokenCreateRequest { Principal = "owner" }, DrawbridgeJson.Wire.ApiTokenCreateRequest, ct), HttpStatusCode.Forbidden);
        var ownerToken = (await _server.Owner.GetFromJsonAsync("/api/v1/tokens", DrawbridgeJson.Wire.ListApiTokenView, ct))!.First(t => t.Principal == "owner");
        await Problem.AssertAsync(await alice.DeleteAsync($"/api/v1/tokens/{ownerToken.Id}", ct), HttpStatusCode.NotFound);
        Assert.Null(ownerToken.RevokedUtc);

        var listed = await _server.Owner.GetStringAsync("/api/v1/tokens", ct);
        Assert.Contains("alice", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Token!, listed, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.DeleteAsync($"/api/v1/tokens/{token.Id}", ct)).StatusCode);
        await Problem.AssertAsync(await alice.GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
        Assert.True((await VerifyAsync())!.Valid);
    }

    [Theory]
    [InlineData("""{"principal":""}""", "principal")]
    [InlineData("""{"principal":"system"}""", "principal")]
    [InlineData("""{"principal":"agent:h1"}""", "principal")]
    [InlineData("""{"principal":"nobody-by-that-name"}""", "principal")]
    [InlineData("""{"ttl":"P100Y"}""", "ttl")]
    public async Task Tokens_BadInput_IsRefusedAndCreatesNothing(string json, string field)
    {
        var before = await _server.DbAsync(db => db.ApiTokens.CountAsync());
        await Problem.AssertAsync(await _server.Owner.PostAsync("/api/v1/tokens", TestServer.Json(json), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await _server.DbAsync(db => db.ApiTokens.CountAsync()));
    }

    [Fact]
    public async Task Users_DisabledUser_IsShutOutAtOnce_AndCannotDisableThemselves()
    {
        var ct = TestContext.Current.CancellationToken;
        var bob = _server.Client(await _server.CreateUserTokenAsync("bob", "SecurityReader"));
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/api/v1/whoami", ct)).StatusCode);
        await Problem.AssertAsync(await bob.PostAsync("/api/v1/users/bob/disable", null, ct), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await _server.Owner.PostAsync("/api/v1/users/owner/disable", null, ct), HttpStatusCode.Conflict, "name");

        var disabled = await _server.Owner.PostAsync("/api/v1/users/BOB/disable", null, ct);
        Assert.NotNull((await disabled.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.UserView, ct))!.DisabledUtc);
        await Problem.AssertAsync(await bob.GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
        var refused = await _server.Owner.GetFromJsonAsync($"/api/v1/audit?since=1m", DrawbridgeJson.Wire.ListAuditEventView, ct);
        Assert.Contains(refused!, e => e.Action == Actions.Authenticate && e.Result == "Refused" && e.Reason == "user 'bob' is disabled");

        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PostAsync("/api/v1/users/bob/enable", null, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/api/v1/whoami", ct)).StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"","password":"long-enough-password"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("""{"name":"has space"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("""{"name":"carol","password":"short"}""", HttpStatusCode.BadRequest, "password")]
    [InlineData("""{"name":"OWNER"}""", HttpStatusCode.Conflict, "name")]
    public async Task Users_BadInput_IsRefusedAndCreatesNothing(string json, HttpStatusCode status, string field)
    {
        var before = await _server.DbAsync(db => db.Users.CountAsync());
        var response = await _server.Owner.PostAsync("/api/v1/users", TestServer.Json(json), TestContext.Current.CancellationToken);
        await Problem.AssertAsync(response, status, field);
        Assert.Equal(before, await _server.DbAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task Users_PasswordIsStoredHashed()
    {
        var ct = TestContext.Current.CancellationToken;
        await Responses.CreatedAsync(await _server.Owner.PostAsJsonAsync("/api/v1/users",
            new UserCreateRequest { Name = "carol", Password = "correct horse battery staple" }, DrawbridgeJson.Wire.UserCreateRequest, ct));
        var stored = await _server.DbAsync(db => db.Users.SingleAsync(u => u.Name == "carol", ct));
        Assert.DoesNotContain("horse", stored.PasswordHash, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Success, UserEndpoints.Hasher.VerifyHashedPassword(stored, stored.PasswordHash!, "correct horse battery staple"));
        Assert.Equal(PasswordVerificationResult.Failed, UserEndpoints.Hasher.VerifyHashedPassword(stored, stored.PasswordHash!, "correct horse battery stapler"));
    }

    [Fact]
    public async Task Tokens_ExpiredToken_IsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        var created = await _server.Owner.PostAsJsonAsync("/api/v1/tokens", new ApiTokenCreateRequest { Ttl = "10m" }, DrawbridgeJson.Wire.ApiTokenCreateRequest, ct);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ApiTokenView, ct))!;
        var temp = _server.Client(token.Token);
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/api/v1/whoami", ct)).StatusCode);
        _server.Time.Advance(TimeSpan.FromMinutes(11));
        await Problem.AssertAsync(await temp.GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
    }
}
