using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Shared;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

public sealed class WebPagesTests_Sqlite() : WebPagesTests(new SqliteDatabase());

public sealed class WebPagesTests_Postgres() : WebPagesTests(new PostgresDatabase());

/// <summary>
/// The web UI's pages and forms through the real pipeline: what each role sees, that forms change exactly what the
/// API would (and nothing when invalid), and that what people typed is encoded on the way out. The browser tests in
/// the end-to-end project drive the same pages in Chromium against real agents.
/// </summary>
public abstract partial class WebPagesTests(ITestDatabase database) : IAsyncLifetime
{
    private const string Password = "a long enough password";
    private TestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(database);
        await _server.EnrollAsync("h1", "198.18.0.11");
        await _server.EnrollAsync("h2", "198.18.0.12");
        await _server.EnableJitAsync("h1");
        await AddUserAsync("ada", "Owner", _server.Sub);
        await AddUserAsync("bob", "JitRequester", _server.VmId("h1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Pages_NeedSignIn_AndCarryAStrictContentSecurityPolicy()
    {
        var ct = TestContext.Current.CancellationToken;
        var anonymous = await _server.Browser().GetAsync("/jit", ct);
        Assert.Equal((HttpStatusCode.Redirect, "/account/login"), (anonymous.StatusCode, anonymous.Headers.Location?.AbsolutePath));

        var ada = await SignInAsync("ada");
        foreach (var path in new[] { "/", "/recommendations", "/jit", "/jit?tab=NotConfigured", "/machines/default/h1", "/requests", "/activity", "/account" })
        {
            var page = await ada.GetAsync(path, ct);
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{path}: {page.StatusCode}");
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        }

        var css = await ada.GetAsync(Regex.Match(await ada.GetStringAsync("/", ct), "/assets/site.css\\?v=[0-9a-f]+").Value, ct);
        Assert.Equal(("text/css", "public, max-age=31536000, immutable"), (css.Content.Headers.ContentType?.MediaType, css.Headers.CacheControl?.ToString()));
    }

    [Fact]
    public async Task Requester_SeesOnlyTheirMachine_NoAdminButtons_AndHiddenOnesAre404()
    {
        var ct = TestContext.Current.CancellationToken;
        var bob = await SignInAsync("bob");
        var jit = await bob.GetStringAsync("/jit", ct);
        Assert.Contains(">h1</a>", jit, StringComparison.Ordinal);
        // Not a bare "h2": the page carries a random antiforgery token, which sometimes contains it.
        Assert.DoesNotContain(">h2<", jit, StringComparison.Ordinal);
        Assert.DoesNotContain("default/h2", jit, StringComparison.Ordinal);
        Assert.DoesNotContain("Edit JIT for", jit, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/activity\"", jit, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/recommendations\"", jit, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/machines/default/h2", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/jit/configure?vm=default/h2", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync("/activity", ct)).StatusCode);

        // Posting the configuration form anyway is refused and audited, and changes nothing.
        var form = await bob.GetStringAsync("/machines/default/h1", ct);
        var post = await PostAsync(bob, "/jit/configure", form, ("vm", "default/h1"), ("ports[0].number", "3389"), ("ports[0].protocol", "*"),
            ("ports[0].source", "request"), ("ports[0].maxTime", "3"));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal([22], await JitPortsAsync("h1"));
    }

    [Fact]
    public async Task JitConfiguration_InvalidRowIsExplainedNextToItsField_ValidOneSaves_RemoveTakesItOut()
    {
        var ct = TestContext.Current.CancellationToken;
        var ada = await SignInAsync("ada");
        var form = await ada.GetStringAsync("/jit/configure?vm=default/h2", ct);
        Assert.Equal(["22", "3389", "5985", "5986"], Regex.Matches(form, "name=\"ports\\[\\d\\]\\.number\" value=\"(\\d+)\"").Select(m => m.Groups[1].Value));

        var bad = await PostAsync(ada, "/jit/configure", form, ("vm", "default/h2"), ("ports[0].number", "22"), ("ports[0].protocol", "TCP"),
            ("ports[0].source", "list"), ("ports[0].sources", "10.0.0.0/33"), ("ports[0].maxTime", "3"),
            ("ports[1].number", "70000"), ("ports[1].protocol", "*"), ("ports[1].source", "request"), ("ports[1].maxTime", "3"));
        var page = await bad.Content.ReadAsStringAsync(ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Matches("<p class=\"error\" id=\"error-ports-1--number\">70000 is not a port number", page);
        Assert.Matches("<p class=\"error\" id=\"error-ports-0--sources\">[^<]*10.0.0.0/33", page);
        Assert.Empty(await JitPortsAsync("h2"));

        var good = await PostAsync(ada, "/jit/configure", form, ("vm", "default/h2"), ("ports[0].number", "22"), ("ports[0].protocol", "TCP"),
            ("ports[0].source", "list"), ("ports[0].sources", "10.0.0.0/8, 192.0.2.0/24"), ("ports[0].maxTime", "1.5"));
        Assert.Equal((HttpStatusCode.SeeOther, "/jit?tab=Configured"), (good.StatusCode, good.Headers.Location?.OriginalString));
        var policy = (await _server.Owner.GetFromJsonAsync($"{_server.PolicyPath()}?api-version=2020-01-01", DrawbridgeJson.Wire.JitNetworkAccessPolicy, ct))!;
        var h2 = Assert.Single(policy.Properties!.VirtualMachines!, v => v.Id == _server.VmId("h2")).Ports!.Single();
        Assert.Equal((22, "TCP", "PT1H30M"), (h2.Number, h2.Protocol, h2.MaxRequestAccessDuration));
        Assert.Equal(["10.0.0.0/8", "192.0.2.0/24"], h2.AllowedSourceAddressPrefixes);
        Assert.Equal([22], await JitPortsAsync("h1"));

        var remove = await PostAsync(ada, "/jit/remove", form, ("vm", "default/h2"));
        Assert.Equal(HttpStatusCode.SeeOther, remove.StatusCode);
        Assert.Empty(await JitPortsAsync("h2"));
        Assert.Equal([22], await JitPortsAsync("h1"));
    }

    [Fact]
    public async Task JitConfiguration_WithAnImportedMachine_ChangesNoMachineAndSaysWhy()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PostAsync("/api/v1/inventory/import",
            TestServer.Json("""{"source":"Azure","machines":[{"resourceGroup":"default","name":"vm-azure"}]}"""), ct)).StatusCode);
        var ada = await SignInAsync("ada");
        var unsupported = await ada.GetStringAsync("/jit?tab=Unsupported", ct);
        Assert.Contains("imported from Azure: JIT needs a Drawbridge agent", unsupported, StringComparison.Ordinal);

        var form = await ada.GetStringAsync("/jit/configure?vm=default/h2&vm=default/vm-azure", ct);
        var post = await PostAsync(ada, "/jit/configure", form, ("vm", "default/h2"), ("vm", "default/vm-azure"), ("ports[0].number", "22"),
            ("ports[0].protocol", "TCP"), ("ports[0].source", "request"), ("ports[0].maxTime", "3"));
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("Nothing was saved.", await post.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Empty(await JitPortsAsync("h2"));
    }

    [Fact]
    public async Task Overview_AndJitTab_CountEveryGrant_NotJustAPageOfThem()
    {
        var ct = TestContext.Current.CancellationToken;
        const int Requests = RequestHandlers.MaxListed + 100;
        var now = _server.Time.GetUtcNow();
        await _server.DbAsync(async db =>
        {
            var policy = await db.JitPolicies.SingleAsync(ct);
            var h1 = await db.Machines.SingleAsync(m => m.NameKey == "h1", ct);
            for (var i = 0; i < Requests; i++)
            {
                var id = Guid.NewGuid();
                db.AccessRequests.Add(new AccessRequest
                {
                    Id = id, PolicyId = policy.Id, Requestor = "bob", StartTimeUtc = now.AddMinutes(-i - 10), ObservedAddress = "203.0.113.9",
                    Grants = [new Grant { Id = Guid.NewGuid(), RequestId = id, MachineId = h1.Id, Requestor = "bob", Port = 22, Protocol = PortProtocol.Tcp, Sources = "203.0.113.9",
                        EndTimeUtc = now.AddMinutes(-i - 5), Status = GrantStatus.Expired }],
                });
            }

            return await db.SaveChangesAsync(ct);
        });

        var ada = await SignInAsync("ada");
        var overview = await ada.GetAsync("/", ct);
        Assert.True(overview.IsSuccessStatusCode, await overview.Content.ReadAsStringAsync(ct));
        Assert.Contains($"<span class=\"value\" id=\"count-week\">{Requests}</span>", await overview.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        var jit = await ada.GetStringAsync("/jit", ct);
        Assert.Matches($"<td class=\"num\">{Requests}</td>\\s*<td>{Regex.Escape(Display.Time(now.AddMinutes(-10)))}</td>\\s*<td>bob</td>", jit);
    }

    [Fact]
    public async Task Connect_RequestsForTheObservedAddress_BadSourceIsExplained_RevokeEndsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var bob = await SignInAsync("bob", "203.0.113.9");
        var page = await bob.GetStringAsync("/machines/default/h1", ct);
        Assert.Contains("My IP (<span id=\"my-ip\">203.0.113.9</span>)", page, StringComparison.Ordinal);

        var bad = await PostAsync(bob, "/machines/default/h1/connect", page, ("port", "22"), ("duration", "PT1H"), ("source", "custom"), ("cidr", "not-an-address"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Matches("<p class=\"error\" id=\"error-cidr\">[^<]*not-an-address", await bad.Content.ReadAsStringAsync(ct));
        Assert.Equal(0, await _server.DbAsync(db => Task.FromResult(db.Grants.Count())));

        var ok = await PostAsync(bob, "/machines/default/h1/connect", page, ("port", "22"), ("duration", "PT1H"), ("source", "mine"),
            ("justification", "<script>alert('x')</script>"));
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
        var grant = await _server.DbAsync(db => Task.FromResult(db.Grants.Single()));
        Assert.Equal(("203.0.113.9", 22, GrantStatus.Approved), (grant.Sources, grant.Port, grant.Status));
        Assert.Equal(TimeSpan.FromHours(1), grant.EndTimeUtc - _server.Time.GetUtcNow());

        var after = await bob.GetStringAsync("/machines/default/h1", ct);
        Assert.Contains($"id=\"request-{grant.RequestId}\"", after, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;", after, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", after, StringComparison.Ordinal);

        var revoke = await PostAsync(bob, $"/requests/{grant.RequestId}/revoke", after, ("returnUrl", "/machines/default/h1"));
        Assert.Equal((HttpStatusCode.SeeOther, "/machines/default/h1"), (revoke.StatusCode, revoke.Headers.Location?.OriginalString));
        Assert.Equal(GrantStatus.Revoked, (await _server.DbAsync(db => Task.FromResult(db.Grants.Single()))).Status);

        var offsite = await PostAsync(bob, $"/requests/{grant.RequestId}/revoke", after, ("returnUrl", "//evil.example/"));
        Assert.Equal("/requests", offsite.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Downloads_CsvDefusesFormulas_JsonIsTheApiShape_ActivityHasTheDecisions()
    {
        var ct = TestContext.Current.CancellationToken;
        var bob = await SignInAsync("bob", "203.0.113.9");
        var page = await bob.GetStringAsync("/machines/default/h1", ct);
        Assert.Equal(HttpStatusCode.SeeOther, (await PostAsync(bob, "/machines/default/h1/connect", page, ("port", "22"), ("duration", "PT1H"),
            ("source", "mine"), ("justification", "=HYPERLINK(\"http://evil.example\"),\"x\""))).StatusCode);

        var csv = await bob.GetStringAsync("/requests?format=csv", ct);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("requestId,startTimeUtc,requestor,resourceGroup,machine,port,protocol,source,state,endTimeUtc,endedBy,justification", lines[0]);
        Assert.EndsWith(",bob,default,h1,22,TCP,203.0.113.9,Approved," + lines[1].Split(',')[9] + ",,\"'=HYPERLINK(\"\"http://evil.example\"\"),\"\"x\"\"\"", lines[1], StringComparison.Ordinal);

        var json = await bob.GetFromJsonAsync("/requests?format=json", DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest, ct);
        Assert.Equal("bob", Assert.Single(json!.Value).Requestor);

        var ada = await SignInAsync("ada");
        var activity = await ada.GetStringAsync("/activity?actor=bob&result=Allowed", ct);
        Assert.Contains("jitNetworkAccessPolicies/initiate/action", activity, StringComparison.Ordinal);
        var events = await ada.GetFromJsonAsync("/activity?format=json&actor=bob", DrawbridgeJson.Wire.ListAuditEventView, ct);
        Assert.Contains(events!, e => e.Action!.EndsWith("initiate/action", StringComparison.Ordinal) && e.Result == "Allowed");
        Assert.Equal(HttpStatusCode.BadRequest, (await ada.GetAsync("/activity?since=forever", ct)).StatusCode);
    }

    private async Task AddUserAsync(string name, string role, string scope)
    {
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/users", TestServer.Json($$"""{"name":"{{name}}","password":"{{Password}}"}""")));
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/role-assignments", TestServer.Json($$"""{"principal":"{{name}}","role":"{{role}}","scope":"{{scope}}"}""")));
    }

    private async Task<HttpClient> SignInAsync(string name, string? address = null)
    {
        var browser = _server.Browser(address);
        var form = await browser.GetStringAsync("/account/login");
        var signedIn = await PostAsync(browser, "/account/login", form, ("name", name), ("password", Password));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return browser;
    }

    /// <summary>Posts a form as the browser would, with the antiforgery token of the page it came from.</summary>
    private static Task<HttpResponseMessage> PostAsync(HttpClient browser, string path, string page, params (string Name, string Value)[] fields)
    {
        var token = WebUtility.HtmlDecode(FormToken().Match(page).Groups[1].Value);
        var body = new FormUrlEncodedContent([new("__RequestVerificationToken", token), .. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]);
        return browser.PostAsync(path, body);
    }

    private Task<List<int>> JitPortsAsync(string machine) => _server.DbAsync(db => Task.FromResult(
        db.JitPolicyPorts.Where(p => db.Machines.Any(m => m.Id == p.MachineId && m.NameKey == machine)).OrderBy(p => p.Ordinal).Select(p => p.Number).ToList()));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();
}
