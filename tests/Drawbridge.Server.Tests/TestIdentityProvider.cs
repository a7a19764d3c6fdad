using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Drawbridge.Tests;

/// <summary>
/// A small OpenID Connect provider on loopback, real HTTP: discovery, an authorization endpoint that signs in whoever
/// the test names (or refuses when nobody is named), a token endpoint that redeems a code once and only with the
/// right PKCE verifier and redirect URI, and its JWKS.
/// </summary>
internal sealed class TestIdentityProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "idp-key-1" };
    private readonly ConcurrentDictionary<string, (string ClientId, string RedirectUri, string Challenge, string? Nonce, string User)> _codes = new();

    private TestIdentityProvider(WebApplication app, string clientId)
    {
        _app = app;
        ClientId = clientId;
    }

    public string Issuer { get; private set; } = "";

    public string JwksUrl => $"{Issuer}/jwks";

    public string ClientId { get; }

    /// <summary>Who the authorization endpoint signs in next; null: it answers access_denied.</summary>
    public string? NextUser { get; set; }

    /// <summary>
    /// Shows a page with a link back instead of redirecting at once, as a provider that asks for a password does: the
    /// navigation back to the client is then started by the provider's page, not by the client's.
    /// </summary>
    public bool Interactive { get; set; }

    public int Redeemed { get; private set; }

    /// <param name="host">The host name in the issuer URL; it listens on 127.0.0.1 whatever the name ("localhost" makes it another site than 127.0.0.1 to a browser).</param>
    public static async Task<TestIdentityProvider> StartAsync(string clientId, string host = "127.0.0.1")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var idp = new TestIdentityProvider(builder.Build(), clientId);
        idp.Map();
        await idp._app.StartAsync();
        var port = new Uri(idp._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        idp.Issuer = $"http://{host}:{port}";
        return idp;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private void Map()
    {
        _app.MapGet("/.well-known/openid-configuration", () => Results.Text($$"""
            {"issuer":"{{Issuer}}","authorization_endpoint":"{{Issuer}}/authorize","token_endpoint":"{{Issuer}}/token","jwks_uri":"{{JwksUrl}}",
             "response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],
             "code_challenge_methods_supported":["S256"]}
            """, "application/json"));
        _app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_key.Rsa.ExportParameters(false)) { KeyId = _key.KeyId });
            return Results.Text($$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{jwk.Kid}}","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""", "application/json");
        });
        _app.MapGet("/authorize", (HttpRequest request) =>
        {
            var q = request.Query;
            var redirect = q["redirect_uri"].ToString();
            if (q["client_id"] != ClientId || q["response_type"] != "code" || q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"]))
            {
                return Results.BadRequest("bad authorization request");
            }

            var state = Uri.EscapeDataString(q["state"].ToString());
            if (NextUser is not { } user)
            {
                return Results.Redirect($"{redirect}?error=access_denied&error_description=The+user+declined&state={state}");
            }

            var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _codes[code] = (ClientId, redirect, q["code_challenge"].ToString(), q["nonce"].ToString(), user);
            var back = $"{redirect}?code={code}&state={state}";
            return Interactive
                ? Results.Content($"<!doctype html><title>Test IdP</title><a id=\"approve\" href=\"{System.Net.WebUtility.HtmlEncode(back)}\">Continue as {System.Net.WebUtility.HtmlEncode(user)}</a>", "text/html")
                : Results.Redirect(back);
        });
        _app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            var verifier = form["code_verifier"].ToString();
            var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var grant)
                || grant.RedirectUri != form["redirect_uri"] || grant.ClientId != form["client_id"] || grant.Challenge != challenge)
            {
                return Results.Json(new Dictionary<string, string> { ["error"] = "invalid_grant" }, statusCode: 400);
            }

            Redeemed++;
            var now = DateTime.UtcNow;
            var claims = new List<Claim> { new("sub", grant.User), new("preferred_username", grant.User) };
            if (!string.IsNullOrEmpty(grant.Nonce))
            {
                claims.Add(new Claim("nonce", grant.Nonce));
            }

            var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = Issuer,
                Audience = ClientId,
                Subject = new ClaimsIdentity(claims),
                IssuedAt = now,
                NotBefore = now,
                Expires = now.AddMinutes(5),
                SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
            });
            return Results.Json(new Dictionary<string, object> { ["access_token"] = "opaque", ["token_type"] = "Bearer", ["expires_in"] = 300, ["id_token"] = idToken });
        });
    }
}
