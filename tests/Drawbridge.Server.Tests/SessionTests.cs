using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Drawbridge.Authorization;
using Drawbridge.Contracts;

namespace Drawbridge.Server.Tests;

/// <summary>Password sign-in with a session cookie and antiforgery, through the real pipeline.</summary>
public sealed partial class SessionTests : IAsyncLifetime
{
    private const string Password = "a long enough password";
    private TestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(new SqliteDatabase(), new() { ["Drawbridge:Limits:LoginPerMinute"] = "6" });
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/users", TestServer.Json($$"""{"name":"erin","password":"{{Password}}"}""")));
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"erin","role":"SecurityReader"}""")));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
    }

    [Fact]
    public async Task SignIn_SetsAStrictSession_ThatNeedsTheAntiforgeryTokenToChangeAnything()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = _server.Browser("198.18.0.77");
        var signedIn = await SignInAsync(browser, "Erin", Password, "/api/v1/whoami");
        Assert.Equal((HttpStatusCode.Redirect, "/api/v1/whoami"), (signedIn.StatusCode, signedIn.Headers.Location?.OriginalString));
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("drawbridge.session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        var me = (await browser.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
        Assert.Equal(("erin", "cookie", "SecurityReader"), (me.Principal, me.AuthenticatedBy, Assert.Single(me.Roles).Role));

        // Changing something with only the cookie, as a forged cross-site form would, is refused; with the page's token it works.
        await Problem.AssertAsync(await browser.PostAsync("/api/v1/tokens", TestServer.Json("{}"), ct), HttpStatusCode.Forbidden);
        var account = await browser.GetStringAsync("/account", ct);
        Assert.Contains("Signed in as erin", account, StringComparison.Ordinal);
        using var withToken = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens") { Content = TestServer.Json("{}") };
        withToken.Headers.Add("X-CSRF-Token", TokenOf(account));
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(withToken, ct)).StatusCode);

        // Disabling the user ends the session at the next request.
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PostAsync("/api/v1/users/erin/disable", null, ct)).StatusCode);
        await Problem.AssertAsync(await browser.GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
        var audit = (await _server.Owner.GetFromJsonAsync("/api/v1/audit?actor=erin", DrawbridgeJson.Wire.ListAuditEventView, ct))!;
        Assert.Contains(audit, e => e.Action == Actions.UserLogin && e.Result == "Allowed" && e.SourceAddress == "198.18.0.77");
    }

    [Fact]
    public async Task WrongPassword_UnknownUser_NoFormToken_AndForeignReturnUrls_AreRefusedAlike()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = _server.Browser();
        foreach (var (name, password) in new[] { ("erin", "wrong password here"), ("nobody", Password), ("erin", "") })
        {
            var refused = await SignInAsync(browser, name, password);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("The name or password is not right.", await refused.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            Assert.DoesNotContain(refused.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith("drawbridge.session=", StringComparison.Ordinal));
        }

        using var forged = new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "erin", ["password"] = Password });
        var noToken = await _server.Browser().PostAsync("/account/login", forged, ct);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Contains("The form expired", await noToken.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        var offsite = await SignInAsync(_server.Browser(), "erin", Password, "//evil.example/steal");
        Assert.Equal("/", offsite.Headers.Location?.OriginalString);

        var audit = (await _server.Owner.GetFromJsonAsync("/api/v1/audit?since=1h", DrawbridgeJson.Wire.ListAuditEventView, ct))!;
        Assert.Equal(["unknown user", "wrong password", "wrong password"], audit.Where(e => e.Action == Actions.UserLogin && e.Result == "Refused").Select(e => e.Reason!).Order());
    }

    [Fact]
    public async Task SignIn_IsRateLimitedPerAddress_AndPagesRedirectToIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = _server.Browser("198.18.0.88");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            // Each attempt loads the form (not limited) and posts it (limited: 6 posts per minute here).
            statuses.Add((await SignInAsync(browser, "erin", "not the password!")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], statuses);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(browser, "erin", Password)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(browser, "erin", Password)).StatusCode);

        var page = await _server.Browser().GetAsync("/account", ct);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("http://localhost/account/login?ReturnUrl=", page.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "name=erin&password=%ZZ%")]
    [InlineData("application/x-www-form-urlencoded", "many")]
    [InlineData("application/x-www-form-urlencoded", "long")]
    [InlineData("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nerin")]
    [InlineData("multipart/form-data", "no boundary")]
    [InlineData("application/json", "{\"name\":\"erin\"}")]
    public async Task HostileSignInForms_AreRefusedCleanly_AndSignNobodyIn(string contentType, string body)
    {
        var ct = TestContext.Current.CancellationToken;
        body = body switch
        {
            "many" => string.Join('&', Enumerable.Range(0, 5000).Select(i => $"k{i}=v")),
            "long" => "name=" + new string('a', 200_000),
            _ => body,
        };
        var before = await StoreSnapshot.TakeAsync(_server);
        using var content = new StringContent(body);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var response = await _server.Browser().PostAsync("/account/login", content, ct);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("drawbridge.session=", StringComparison.Ordinal)));
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));

        // The same body from a signed-in browser to any endpoint meets the antiforgery check first: refused, no 5xx.
        var browser = _server.Browser();
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(browser, "erin", Password)).StatusCode);
        using var again = new StringContent(body);
        again.Headers.Remove("Content-Type");
        again.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var refused = await browser.PostAsync("/api/v1/tokens", again, ct);
        Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.RequestEntityTooLarge,
            $"{(int)refused.StatusCode}: {await refused.Content.ReadAsStringAsync(ct)}");
        Assert.Equal(before.Tokens, (await StoreSnapshot.TakeAsync(_server)).Tokens);
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string name, string password, string returnUrl = "")
    {
        var form = await browser.GetStringAsync("/account/login");
        Assert.Contains("<label for=\"password\">Password</label>", form, StringComparison.Ordinal);
        using var body = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = TokenOf(form),
            ["name"] = name,
            ["password"] = password,
            ["returnUrl"] = returnUrl,
        });
        return await browser.PostAsync("/account/login", body);
    }

    private static string TokenOf(string html) => WebUtility.HtmlDecode(FormToken().Match(html).Groups[1].Value);

    [GeneratedRegex("""name="__RequestVerificationToken" value="([^"]+)""")]
    private static partial Regex FormToken();
}
