using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Drawbridge.Contracts;
using Drawbridge.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Drawbridge.Server.Tests;

/// <summary>
/// Bearer JWTs from a configured OIDC issuer, signed with a key the test made, its public half served as a JWKS
/// file or over HTTP on loopback. Every property the server must check is broken once.
/// </summary>
public sealed class OidcTests : IAsyncLifetime
{
    private const string Issuer = "https://idp.example.test/realms/ops";
    private const string Audience = "drawbridge";

    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key-1" };
    private readonly RsaSecurityKey _stranger = new(RSA.Create(2048)) { KeyId = "test-key-1" };
    private string _jwksFile = "";

    public ValueTask InitializeAsync()
    {
        _jwksFile = Path.Combine(Directory.CreateTempSubdirectory("drawbridge-oidc").FullName, "jwks.json");
        File.WriteAllText(_jwksFile, Jwks(_key));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Path.GetDirectoryName(_jwksFile)!, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task JwksFile_ValidToken_IsThePrincipal_AndEveryBrokenPropertyIs401()
    {
        await using var server = await StartAsync(new() { ["Drawbridge:Oidc:JwksFile"] = _jwksFile });
        var ct = TestContext.Current.CancellationToken;
        await server.CreateUserTokenAsync("carol@example.com", "SecurityReader");

        var me = (await Caller(server, Token("Carol@Example.com")).GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
        Assert.Equal(("carol@example.com", "oidc", "SecurityReader"), (me.Principal, me.AuthenticatedBy, Assert.Single(me.Roles).Role));
        Assert.Equal(HttpStatusCode.OK, (await Caller(server, Token("carol@example.com")).GetAsync("/api/v1/audit?limit=1", ct)).StatusCode);

        string[] refused =
        [
            Token("carol@example.com", audience: "someone-else"),
            Token("carol@example.com", issuer: "https://evil.example.test"),
            Token("carol@example.com", expires: DateTime.UtcNow.AddMinutes(-5)),
            Token("carol@example.com", key: _stranger),
            Token(null),
        ];
        foreach (var token in refused)
        {
            await Problem.AssertAsync(await Caller(server, token).GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
        }

        // A disabled local user of the same name is shut out of OIDC too, and every refusal is in the audit chain.
        Assert.Equal(HttpStatusCode.OK, (await server.Owner.PostAsync("/api/v1/users/carol@example.com/disable", null, ct)).StatusCode);
        await Problem.AssertAsync(await Caller(server, Token("carol@example.com")).GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);
        var audit = (await server.Owner.GetFromJsonAsync("/api/v1/audit?since=1h", DrawbridgeJson.Wire.ListAuditEventView, ct))!;
        Assert.Equal(refused.Length + 1, audit.Count(e => e.Action == "Drawbridge/authenticate/action" && e.Reason!.StartsWith("OIDC token refused", StringComparison.Ordinal)));
        Assert.True((await server.Owner.GetFromJsonAsync("/api/v1/audit/verify", DrawbridgeJson.Wire.AuditVerification, ct))!.Valid);
    }

    [Fact]
    public async Task JwksUrl_KeysAreFetchedOverHttp()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var idp = await JwksEndpointAsync(Jwks(_key));
        await using var server = await StartAsync(new() { ["Drawbridge:Oidc:JwksUrl"] = idp.Url });
        var me = (await Caller(server, Token("dave")).GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
        Assert.Equal(("dave", 0), (me.Principal, me.Roles.Count));
        await Problem.AssertAsync(await Caller(server, Token("dave", key: _stranger)).GetAsync("/api/v1/whoami", ct), HttpStatusCode.Unauthorized);

        // Without a role, an OIDC principal sees nothing.
        await Problem.AssertAsync(await Caller(server, Token("dave")).GetAsync($"{server.Sub}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01", ct), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("Drawbridge:Oidc:Audience", "")]
    [InlineData("Drawbridge:Oidc:JwksUrl", "http://idp.example.test/jwks")]
    [InlineData("Drawbridge:Oidc:JwksFile", "/nonexistent/jwks.json")]
    [InlineData("Drawbridge:Oidc:WebClientId", "drawbridge-web", "http://idp.example.test")]
    [InlineData("Drawbridge:Oidc:WebClientId", "drawbridge-web", "")]
    public async Task BadSettings_StopTheServerWithAClearMessage(string key, string value, string issuer = Issuer)
    {
        var settings = new Dictionary<string, string?> { ["Drawbridge:Oidc:JwksFile"] = _jwksFile, ["Drawbridge:Oidc:Issuer"] = issuer, [key] = value };
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await StartAsync(settings)).DisposeAsync());
        Assert.Contains("Drawbridge:Oidc", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSignIn_CodeFlowWithPkce_EndsInASessionForTheTokensPrincipal_RefusalsSayWhyAndSignNobodyIn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var idp = await TestIdentityProvider.StartAsync("drawbridge-web");
        await using var server = await StartAsync(new()
        {
            ["Drawbridge:Oidc:Issuer"] = idp.Issuer,
            ["Drawbridge:Oidc:JwksUrl"] = idp.JwksUrl,
            ["Drawbridge:Oidc:WebClientId"] = idp.ClientId,
            ["Drawbridge:Oidc:WebDisplayName"] = "Test IdP",
        });

        // The browser's cookies and the provider's tokens live on the wall clock.
        server.Time.SetUtcNow(DateTimeOffset.UtcNow);

        // No local user row: a role assignment to the name the provider vouches for is enough.
        await Responses.CreatedAsync(await server.Owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"dave@example.com","role":"SecurityReader"}"""), ct));
        var browser = server.Browser();
        Assert.Contains("Sign in with Test IdP", await browser.GetStringAsync("/account/login", ct), StringComparison.Ordinal);

        idp.NextUser = "Dave@Example.com";
        var landed = await SignInThroughAsync(browser, "/requests");
        Assert.True(landed.StatusCode == HttpStatusCode.OK, await landed.Content.ReadAsStringAsync(ct));
        Assert.Contains("content=\"0;url=/requests\"", await landed.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        var page = await browser.GetAsync("/requests", ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Signed in as <a href=\"/account\">dave@example.com</a>", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        var me = (await browser.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct))!;
        Assert.Equal(("dave@example.com", "cookie", "SecurityReader"), (me.Principal, me.AuthenticatedBy, Assert.Single(me.Roles).Role));
        Assert.Equal(1, idp.Redeemed);

        // The provider refuses: the sign-in page says so, and nobody is signed in.
        idp.NextUser = null;
        var declined = await SignInThroughAsync(server.Browser(), "/");
        Assert.Equal(HttpStatusCode.BadRequest, declined.StatusCode);
        Assert.Contains("Sign-in with Test IdP did not succeed", await declined.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        // A disabled local user of that name ends the live session and cannot sign in again.
        await Responses.CreatedAsync(await server.Owner.PostAsync("/api/v1/users", TestServer.Json("""{"name":"dave@example.com"}"""), ct));
        Assert.Equal(HttpStatusCode.OK, (await server.Owner.PostAsync("/api/v1/users/dave@example.com/disable", null, ct)).StatusCode);
        var ended = await browser.GetAsync("/requests", ct);
        Assert.Equal((HttpStatusCode.Redirect, "/account/login"), (ended.StatusCode, ended.Headers.Location?.AbsolutePath));
        idp.NextUser = "dave@example.com";
        var disabled = await SignInThroughAsync(server.Browser(), "/");
        Assert.Equal(HttpStatusCode.BadRequest, disabled.StatusCode);
        Assert.Contains("disabled", await disabled.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        var audit = (await server.Owner.GetFromJsonAsync("/api/v1/audit?since=1h", DrawbridgeJson.Wire.ListAuditEventView, ct))!
            .Where(e => e.Action == Authorization.Actions.UserLogin).Select(e => (e.Actor, e.Result)).ToList();
        Assert.Contains(("dave@example.com", "Allowed"), audit);
        Assert.Contains(("anonymous", "Refused"), audit);
    }

    /// <summary>Follows the sign-in redirects between Drawbridge (in memory) and the provider (real HTTP), as a browser would.</summary>
    private static async Task<HttpResponseMessage> SignInThroughAsync(HttpClient browser, string returnUrl)
    {
        using var network = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var response = await browser.GetAsync($"/account/login/oidc?returnUrl={Uri.EscapeDataString(returnUrl)}");
        for (var hops = 0; hops < 6 && (int)response.StatusCode is >= 300 and < 400; hops++)
        {
            var next = new Uri(browser.BaseAddress!, response.Headers.Location!);
            response = next.Authority == browser.BaseAddress!.Authority ? await browser.GetAsync(next.PathAndQuery) : await network.GetAsync(next);
        }

        return response;
    }

    private static Task<TestServer> StartAsync(Dictionary<string, string?> settings)
    {
        settings.TryAdd("Drawbridge:Oidc:Issuer", Issuer);
        settings.TryAdd("Drawbridge:Oidc:Audience", Audience);
        return TestServer.StartAsync(new SqliteDatabase(), settings);
    }

    private static HttpClient Caller(TestServer server, string jwt)
    {
        var client = server.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        return client;
    }

    private string Token(string? name, string audience = Audience, string issuer = Issuer, DateTime? expires = null, RsaSecurityKey? key = null)
    {
        var claims = new List<Claim> { new("sub", Guid.NewGuid().ToString()) };
        if (name is not null)
        {
            claims.Add(new Claim("preferred_username", name));
        }

        var end = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = end.AddMinutes(-20),
            IssuedAt = end.AddMinutes(-20),
            Expires = end,
            SigningCredentials = new SigningCredentials(key ?? _key, SecurityAlgorithms.RsaSha256),
        });
    }

    private static string Jwks(RsaSecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(includePrivateParameters: false)) { KeyId = key.KeyId });
        return $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{jwk.Kid}}","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""";
    }

    /// <summary>A real HTTP server on loopback that serves one JWKS document, as an identity provider would.</summary>
    private static async Task<JwksEndpoint> JwksEndpointAsync(string jwks)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/jwks", () => Results.Text(jwks, "application/json"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new JwksEndpoint(app, $"{address}/jwks");
    }

    private sealed record JwksEndpoint(WebApplication App, string Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
