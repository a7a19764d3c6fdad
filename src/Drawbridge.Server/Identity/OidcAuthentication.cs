using System.Security.Claims;
using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Drawbridge.Server.Identity;

/// <summary>Bearer JWTs from the configured OpenID Connect issuer (<see cref="OidcOptions"/>).</summary>
internal static class OidcAuthentication
{
    public const string Scheme = "Oidc";

    public static void AddOidc(this AuthenticationBuilder builder, OidcOptions oidc) => builder.AddJwtBearer(Scheme, o => Configure(o, oidc));

    public static bool LooksLikeJwt(string authorization) =>
        authorization.StartsWith("Bearer ey", StringComparison.OrdinalIgnoreCase) && authorization.Count(c => c == '.') == 2;

    private static void Configure(JwtBearerOptions o, OidcOptions oidc)
    {
        o.MapInboundClaims = false;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = oidc.Issuer,
            ValidAudience = oidc.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = oidc.NameClaim,
        };
        if (oidc.JwksFile is { Length: > 0 } file)
        {
            o.TokenValidationParameters.IssuerSigningKeys = new JsonWebKeySet(File.ReadAllText(file)).GetSigningKeys();
        }
        else
        {
            var url = new Uri(oidc.JwksUrl!);
            o.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                url.ToString(), new JwksRetriever(), new HttpDocumentRetriever { RequireHttps = !url.IsLoopback });
        }

        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = async context =>
            {
                var (name, refusal) = await PrincipalAsync(context.HttpContext, context.Principal, oidc);
                if (refusal is not null)
                {
                    // A failure raised here does not pass through OnAuthenticationFailed, so it is audited here.
                    await AuditFailureAsync(context.HttpContext, refusal);
                    context.Fail(refusal);
                    return;
                }

                context.Principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name!)], "oidc"));
            },
            OnAuthenticationFailed = context => AuditFailureAsync(context.HttpContext, context.Exception.Message),
            OnChallenge = async context =>
            {
                // The same problem body as every other 401; the failure itself was audited above.
                context.HandleResponse();
                await Http.Problems.Unauthorized("A valid bearer token is required (Authorization: Bearer <token>).").ExecuteAsync(context.HttpContext);
            },
        };
    }

    /// <summary>
    /// The principal an OIDC token names, or why it cannot be one. Principals are lower case everywhere; a disabled
    /// local user with the same name is shut out here too.
    /// </summary>
    public static async Task<(string? Name, string? Refusal)> PrincipalAsync(HttpContext http, ClaimsPrincipal? token, OidcOptions oidc)
    {
        var name = token?.FindFirstValue(oidc.NameClaim)?.ToLowerInvariant();
        var db = http.RequestServices.GetRequiredService<DrawbridgeDbContext>();
        var refusal = string.IsNullOrEmpty(name) || name.Length > Principals.MaxLength || name.StartsWith("agent:", StringComparison.Ordinal)
            ? $"the token has no usable '{oidc.NameClaim}' claim"
            : await db.Users.AnyAsync(u => u.Name == name && u.DisabledUtc != null, http.RequestAborted) ? $"user '{name}' is disabled"
            : null;
        return (refusal is null ? name : null, refusal);
    }

    private static async Task AuditFailureAsync(HttpContext http, string reason)
    {
        var audit = http.RequestServices.GetRequiredService<AuditLog>();
        await audit.RefuseAsync(http, Actions.Authenticate, http.Request.Path.ToString(), $"OIDC token refused: {reason}", http.RequestAborted);
    }

    /// <summary>Reads a bare JWKS document (not a discovery document) into the configuration the JWT handler uses.</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
            var configuration = new OpenIdConnectConfiguration();
            foreach (var key in keys.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}
