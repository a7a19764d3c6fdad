using System.Net;
using System.Net.Sockets;
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
    private const string Chromium = "/usr/bin/chromium";
    private const string OwnerToken = "dbt_oidc-browser-owner-token-0123456789abcdefgh";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-oidc-browser").FullName;
    private TestIdentityProvider _idp = null!;
    private LabProcess? _server;
    private string _url = "";

    public async ValueTask InitializeAsync()
    {
        var serverDll = Path.Combine(Environment.GetEnvironmentVariable("DRAWBRIDGE_ARTIFACTS") is { Length: > 0 } a ? a : Path.Combine(Lab.FindRoot(), "artifacts"),
            "server", "drawbridge-server.dll");
        if (!File.Exists(serverDll) || !File.Exists(Chromium))
        {
            var why = $"needs {serverDll} (./test.sh publishes it) and {Chromium} (scripts/prerequisites.sh installs it)";
            Assert.SkipWhen(Environment.GetEnvironmentVariable("DRAWBRIDGE_REQUIRE_ROOT_TESTS") != "1", why);
            Assert.Fail(why);
        }

        _idp = await TestIdentityProvider.StartAsync("drawbridge-web", host: "localhost");
        var port = FreePort();
        _url = $"http://127.0.0.1:{port}";
        _server = LabProcess.StartLocal(Path.Combine(_directory, "server.log"), new Dictionary<string, string>
        {
            ["Drawbridge__DataDirectory"] = Path.Combine(_directory, "data"),
            ["Drawbridge__Bootstrap__OwnerToken"] = OwnerToken,
            ["Drawbridge__Oidc__Issuer"] = _idp.Issuer,
            ["Drawbridge__Oidc__Audience"] = "drawbridge",
            ["Drawbridge__Oidc__JwksUrl"] = _idp.JwksUrl,
            ["Drawbridge__Oidc__WebClientId"] = _idp.ClientId,
            ["Drawbridge__Oidc__WebDisplayName"] = "Test IdP",
        }, "dotnet", serverDll, "--urls", _url);

        using var owner = new HttpClient { BaseAddress = new Uri(_url) };
        owner.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OwnerToken);
        HttpResponseMessage? assigned = null;
        await Lab.WaitForAsync(() =>
        {
            try
            {
                using var body = new StringContent("""{"principal":"erin@example.com","role":"JitRequester"}""", System.Text.Encoding.UTF8, "application/json");
                assigned = owner.PostAsync("/api/v1/role-assignments", body).GetAwaiter().GetResult();
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the server to answer");
        Assert.Equal(HttpStatusCode.Created, assigned!.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        _server?.Dispose();
        await _idp.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task SignInWithTheProvider_LandsSignedIn_OnThePageAskedFor()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
