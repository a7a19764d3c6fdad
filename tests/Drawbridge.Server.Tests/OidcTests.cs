using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Drawbridge.Contracts;
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
    public async Task BadSettings_StopTheServerWithAClearMessage(string key, string value)
    {
        var settings = new Dictionary<string, string?> { ["Drawbridge:Oidc:JwksFile"] = _jwksFile, [key] = value };
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await StartAsync(settings)).DisposeAsync());
        Assert.Contains("Drawbridge:Oidc", error.ToString(), StringComparison.Ordinal);
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
