using System.Security.Claims;
using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web.Account;
using Drawbridge.Server.Web.Shared;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Password sign-in for local users: a session cookie (HttpOnly, SameSite=Strict, 8 hours sliding) after a form post
/// that carries an antiforgery token. Every unsafe request made with the cookie must carry the token too, so another
/// site cannot act with someone's session. The rest of the web UI is in Web/.
/// </summary>
internal static class SessionEndpoints
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "drawbridge.session";
    public const string LoginPath = "/account/login";

    /// <summary>How a session-authenticated caller's identity says it signed in (whoami's authenticatedBy).</summary>
    public const string AuthenticationType = "cookie";

    public static void AddDrawbridgeSessions(this AuthenticationBuilder builder)
    {
        builder.AddCookie(Scheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = LoginPath;
            o.Events = new CookieAuthenticationEvents
            {
                // A disabled or removed user's session ends at their next request. One that came through the OIDC
                // provider needs no local row, but a disabled one ends it too.
                OnValidatePrincipal = async context =>
                {
                    var name = context.Principal?.Identity?.Name;
                    var viaProvider = context.Principal?.HasClaim(c => c.Type == OidcSignIn.ProviderClaim) == true;
                    var db = context.HttpContext.RequestServices.GetRequiredService<DrawbridgeDbContext>();
                    var users = db.Users.Where(u => u.Name == name);
                    if (name is null || !await (viaProvider ? users.AllAsync(u => u.DisabledUtc == null, context.HttpContext.RequestAborted)
                        : users.AnyAsync(u => u.DisabledUtc == null, context.HttpContext.RequestAborted)))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(Scheme);
                    }
                },

                // APIs answer 401 and 403 as problems; only pages redirect to the sign-in form.
                OnRedirectToLogin = context => IsPage(context.Request) ? Redirect(context) : Problems.Unauthorized("Sign in first.").ExecuteAsync(context.HttpContext),
                OnRedirectToAccessDenied = context => Problems.Forbidden("You may not do this.").ExecuteAsync(context.HttpContext),
            };
        });
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "drawbridge.antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.HeaderName = "X-CSRF-Token";
        });
    }

    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(LoginPath, (HttpContext http, string? returnUrl) => RenderLogin(http, returnUrl, error: null))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapPost(LoginPath, LoginAsync).AllowAnonymous().RequireRateLimiting(RateLimits.Login).ExcludeFromDescription();
        app.MapGet("/account", RenderAccountAsync).AllowAnyCaller("it shows callers only themselves").ExcludeFromDescription();
        app.MapPost("/account/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(Scheme);
            return Results.Redirect(LoginPath);
        }).AllowAnyCaller("signing out concerns only the caller's own session");
        return app;
    }

    /// <summary>
    /// Requests authenticated by the session cookie that could change something must carry the antiforgery token
    /// (form field or X-CSRF-Token header). Bearer-token requests are not affected: a browser never adds those itself.
    /// </summary>
    public static IApplicationBuilder UseSessionAntiforgery(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.User.Identity is { IsAuthenticated: true, AuthenticationType: AuthenticationType } && !HttpMethods.IsGet(http.Request.Method)
            && !HttpMethods.IsHead(http.Request.Method) && !HttpMethods.IsOptions(http.Request.Method))
        {
            try
            {
                await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                // Also what an unreadable form body becomes here: the token store wraps the parser's errors.
                await Problems.Forbidden("This request needs the page's antiforgery token (reload the page and try again).").ExecuteAsync(http);
                return;
            }
        }

        await next(http);
    });

    private static async Task<IResult> LoginAsync(HttpContext http, IAntiforgery antiforgery, DrawbridgeDbContext db, AuditLog audit, CancellationToken ct)
    {
        var (form, problem) = await FormBody.ReadAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var returnUrl = form!["returnUrl"].ToString();
        try
        {
            await antiforgery.ValidateRequestAsync(http);
        }
        catch (AntiforgeryValidationException)
        {
            return RenderLogin(http, returnUrl, "The form expired. Please try again.", StatusCodes.Status400BadRequest);
        }

        var name = form["name"].ToString().Trim().ToLowerInvariant();
        var password = form["password"].ToString();
        var user = name.Length is > 0 and <= Principals.MaxLength ? await db.Users.SingleOrDefaultAsync(u => u.Name == name, ct) : null;
        var verdict = user?.PasswordHash is null || password.Length > UserEndpoints.MaxPasswordLength ? PasswordVerificationResult.Failed
            : UserEndpoints.Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (verdict == PasswordVerificationResult.Failed || user!.DisabledUtc is not null)
        {
            var reason = user is null ? "unknown user" : user.DisabledUtc is not null ? "user is disabled" : user.PasswordHash is null ? "user has no password" : "wrong password";
            audit.Record(name.Length == 0 ? "anonymous" : name[..Math.Min(name.Length, Principals.MaxLength)], Actions.UserLogin, LoginPath,
                http.Connection.RemoteIpAddress?.ToString(), AuditLog.Refused, reason);
            await db.SaveChangesAsync(ct);

            // One message for every reason, so the form does not tell which names exist.
            return RenderLogin(http, returnUrl, "The name or password is not right.", StatusCodes.Status400BadRequest, name);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = UserEndpoints.Hasher.HashPassword(user, password);
        }

        audit.Record(user.Name, Actions.UserLogin, LoginPath, http.Connection.RemoteIpAddress?.ToString(), AuditLog.Allowed);
        await db.SaveChangesAsync(ct);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Name)], AuthenticationType)));
        return Results.Redirect(IsLocal(returnUrl) ? returnUrl : "/");
    }

    public static IResult RenderLogin(HttpContext http, string? returnUrl, string? error, int status = StatusCodes.Status200OK, string? name = null)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        var oidc = http.RequestServices.GetRequiredService<IOptions<DrawbridgeOptions>>().Value.Oidc;
        return WebPage.Render<LoginPage>(new
        {
            AntiforgeryField = tokens.FormFieldName,
            AntiforgeryToken = tokens.RequestToken!,
            ReturnUrl = IsLocal(returnUrl) ? returnUrl! : "",
            Name = name,
            Error = error,
            SingleSignOn = oidc.WebSignIn ? oidc.WebDisplayName : null,
        }, status);
    }

    private static async Task<IResult> RenderAccountAsync(HttpContext http, CancellationToken ct)
    {
        var viewer = await Viewer.LoadAsync(http, ct);
        var roles = (await viewer.Caller.GetAsync(ct)).Roles.Select(r => (r.Role.Name, r.Scope.Key)).ToList();
        return WebPage.Render<AccountPage>(new { Viewer = viewer, Roles = roles });
    }

    /// <summary>Only paths on this server: "//evil.example" and "/\evil.example" are other hosts to a browser.</summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));

    /// <summary>Pages (not the API, ARM or agent routes): these redirect to the sign-in form instead of answering 401.</summary>
    public static bool IsPage(HttpRequest request) =>
        !request.Path.StartsWithSegments("/api") && !request.Path.StartsWithSegments("/subscriptions") && !request.Path.StartsWithSegments("/agent");

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
