using System.Net;
using Drawbridge.Tests;
using Microsoft.Playwright;

namespace Drawbridge.EndToEnd;

/// <summary>
/// Sign-in through an OpenID Connect provider in Chromium, on loopback: the server at 127.0.0.1, the provider at
/// "localhost", which the browser takes for another site. So the provider's redirect back is a cross-site navigation,
/// on which the browser holds back SameSite=Strict cookies, as it would with a real provider.
/// </summary>
public sealed class OidcBrowserTests : IAsyncLifetime
{
    private const string OwnerToken = "dbt_oidc-browser-owner-token-0123456789abcdefgh";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-oidc-browser").FullName;
    private TestIdentityProvider _idp = null!;
    private LocalServer? _server;
    private string _url = "";

    public async ValueTask InitializeAsync()
    {
        Requirements.Require(LocalServer.Published, BrowserLab.ChromiumInstalled);

        _idp = await TestIdentityProvider.StartAsync("drawbridge-web", host: "localhost");
        _server = LocalServer.Start(_directory, "http", OwnerToken, new Dictionary<string, string>
        {
            ["Drawbridge__Oidc__Issuer"] = _idp.Issuer,
            ["Drawbridge__Oidc__Audience"] = "drawbridge",
            ["Drawbridge__Oidc__JwksUrl"] = _idp.JwksUrl,
            ["Drawbridge__Oidc__WebClientId"] = _idp.ClientId,
            ["Drawbridge__Oidc__WebDisplayName"] = "Test IdP",
        });
        _url = _server.Url;

        using var owner = new HttpClient { BaseAddress = new Uri(_url) };
        owner.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OwnerToken);
        var assigned = await LocalServer.FirstAnswerAsync(() =>
            owner.PostAsync("/api/v1/role-assignments", new StringContent("""{"principal":"erin@example.com","role":"JitRequester"}""", System.Text.Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.Created, assigned.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        _server?.Dispose();
        if (_idp is not null)
        {
            await _idp.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task SignInWithTheProvider_LandsSignedIn_OnThePageAskedFor()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = BrowserLab.Chromium, Headless = true });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        _idp.NextUser = "Erin@Example.com";
        _idp.Interactive = true;
        await page.GotoAsync($"{_url}/requests");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Test IdP" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Continue as Erin@Example.com" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync($"{_url}/requests");
        await Assertions.Expect(page.GetByText("Signed in as erin@example.com")).ToBeVisibleAsync();
        Assert.Equal(1, _idp.Redeemed);
    }
}
