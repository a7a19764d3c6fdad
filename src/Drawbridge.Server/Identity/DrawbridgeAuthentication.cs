using Drawbridge.Server.Options;
using Microsoft.AspNetCore.Authentication;

namespace Drawbridge.Server.Identity;

/// <summary>
/// One entry point for every way in: JWTs go to the OIDC handler (when an issuer is configured), Drawbridge's own
/// tokens (dbt_, dba_) to <see cref="BearerAuthenticationHandler"/>, and requests without an Authorization header that
/// carry a session cookie or ask for a page to the session (cookie) handler.
/// </summary>
internal static class DrawbridgeAuthentication
{
    private const string Selector = "Drawbridge";

    public static AuthenticationBuilder AddDrawbridgeAuthentication(this IServiceCollection services, OidcOptions oidc)
    {
        services.AddSingleton<AgentCredentials>();
        var builder = services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "Bearer token or session", o => o.ForwardDefaultSelector = http =>
            {
                var authorization = http.Request.Headers.Authorization.ToString();
                return authorization.Length == 0 && (http.Request.Cookies.ContainsKey(SessionEndpoints.CookieName) || SessionEndpoints.IsPage(http.Request))
                    ? SessionEndpoints.Scheme
                    : oidc.Enabled && OidcAuthentication.LooksLikeJwt(authorization) ? OidcAuthentication.Scheme
                    : BearerAuthenticationHandler.SchemeName;
            })
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        builder.AddDrawbridgeSessions();
        if (oidc.Enabled)
        {
            builder.AddOidc(oidc);
        }

        if (oidc.WebSignIn)
        {
            builder.AddOidcSignIn(oidc);
        }

        return builder;
    }
}
