using System.Security.Claims;
using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Account;
using Drawbridge.Server.Web.Shared;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Web UI sign-in through the OIDC provider: the authorization code flow with PKCE, ending in the same session cookie
/// as a password sign-in. The principal is the token's name claim, as for OIDC bearer tokens, so role assignments
/// apply alike; no local user row is needed, and a disabled one shuts the person out.
/// </summary>
internal static class OidcSignIn
{
    public const string Scheme = "OidcSignIn";
    public const string StartPath = "/account/login/oidc";
    public const string CallbackPath = "/account/oidc/callback";
    public const string FinishPath = "/account/oidc/done";

    /// <summary>Marks a session that came from the provider (it may have no local user row).</summary>
    public const string ProviderClaim = "drawbridge:idp";

    public static void AddOidcSignIn(this AuthenticationBuilder builder, OidcOptions oidc) => builder.AddOpenIdConnect(Scheme, o =>
    {
        o.Authority = oidc.Issuer;
        o.RequireHttpsMetadata = new Uri(oidc.Issuer!).Scheme == Uri.UriSchemeHttps;
        o.ClientId = oidc.WebClientId;
        o.ClientSecret = oidc.WebClientSecret;
        o.ResponseType = OpenIdConnectResponseType.Code;
        o.UsePkce = true;
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.Scope.Add("profile");
        o.MapInboundClaims = false;
        o.SaveTokens = false;
        o.SignInScheme = SessionEndpoints.Scheme;
        o.CallbackPath = CallbackPath;
        o.TokenValidationParameters.NameClaimType = oidc.NameClaim;

        // The answer comes back as a top-level GET (query response mode), so the correlation and nonce cookies can be
        // SameSite=Lax rather than None, and work over plain http on a lab network too.
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;

        o.Events = new OpenIdConnectEvents
        {
            OnTokenValidated = async context =>
            {
                var http = context.HttpContext;
                var audit = http.RequestServices.GetRequiredService<AuditLog>();
                var (name, refusal) = await OidcAuthentication.PrincipalAsync(http, context.Principal, oidc);
                if (refusal is not null)
                {
                    // Audited with every other failure, below.
                    context.Fail(refusal);
                    return;
                }

                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                    [new Claim(ClaimTypes.Name, name!), new Claim(ProviderClaim, oidc.Issuer!)], SessionEndpoints.AuthenticationType));
                audit.Record(name!, Actions.UserLogin, CallbackPath, http.Connection.RemoteIpAddress?.ToString(), AuditLog.Allowed, $"OIDC sign-in through {oidc.Issuer}");
                await http.RequestServices.GetRequiredService<DrawbridgeDbContext>().SaveChangesAsync(http.RequestAborted);
            },
            OnRemoteFailure = async context =>
            {
                // Refused by the provider or by us, or a broken answer: audited, and the sign-in page says so in one line.
                context.HandleResponse();
                var http = context.HttpContext;
                await http.RequestServices.GetRequiredService<AuditLog>().RefuseAsync(http, Actions.UserLogin, CallbackPath,
                    $"OIDC sign-in refused: {context.Failure?.Message}", http.RequestAborted);
                var result = SessionEndpoints.RenderLogin(context.HttpContext, "", $"Sign-in with {oidc.WebDisplayName} did not succeed: {context.Failure?.Message}",
                    StatusCodes.Status400BadRequest);
                await result.ExecuteAsync(context.HttpContext);
            },
        };
    });

    public static IEndpointRouteBuilder MapOidcSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(StartPath, (string? returnUrl) => Results.Challenge(
                new AuthenticationProperties { RedirectUri = $"{FinishPath}?returnUrl={Uri.EscapeDataString(Local(returnUrl))}" }, [Scheme]))
            .AllowAnonymous().ExcludeFromDescription();

        // The provider's redirect starts a cross-site navigation, and a SameSite=Strict session cookie is not sent on
        // any request of that chain; a page of ours that moves on by itself starts a same-site one, which carries it.
        app.MapGet(FinishPath, (string? returnUrl) => WebPage.Render<ContinuePage>(new { Url = Local(returnUrl) }))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static string Local(string? url) => SessionEndpoints.IsLocal(url) ? url! : "/";
}
