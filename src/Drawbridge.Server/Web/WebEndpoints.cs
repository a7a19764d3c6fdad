using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Web.Activity;
using Drawbridge.Server.Web.JitAccess;
using Drawbridge.Server.Web.Machines;
using Drawbridge.Server.Web.Overview;
using Drawbridge.Server.Web.Recommendations;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web;

/// <summary>
/// The web UI: server-rendered pages (Razor components) over the same handlers as the API. Pages show each viewer
/// only what their roles cover; every form posts to a handler that authorizes, validates and audits exactly as the
/// API does for the same change. Sign-in and the account page are in <see cref="SessionEndpoints"/>.
/// </summary>
internal static class WebEndpoints
{
    private const string PerRecord = "each page shows only what the caller's roles cover, and its forms are authorized by the API handlers they share";

    public static IServiceCollection AddWeb(this IServiceCollection services)
    {
        services.AddRazorComponents();
        services.AddScoped<Fleet>().AddScoped<PolicyEditor>();
        return services;
    }

    public static IEndpointRouteBuilder MapWebEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapStaticAssets();
        var web = app.MapGroup("").AllowAnyCaller(PerRecord).ExcludeFromDescription();
        web.MapGet("/", (HttpContext http, Fleet fleet, CancellationToken ct) => OverviewHandler.RenderAsync(http, fleet, ct));
        web.MapGet("/recommendations", (HttpContext http, string? state, Fleet fleet, CancellationToken ct) => RecommendationsHandler.RenderAsync(http, state, fleet, ct));
        web.MapGet("/jit", (HttpContext http, string? tab, Fleet fleet, CancellationToken ct) => JitAccessHandler.RenderAsync(http, tab, fleet, ct));
        web.MapGet("/jit/configure", (HttpContext http, string[]? vm, Fleet fleet, CancellationToken ct) => JitConfigHandler.RenderAsync(http, vm, fleet, ct));
        web.MapPost("/jit/configure", (HttpContext http, Fleet fleet, PolicyEditor editor, CancellationToken ct) => JitConfigHandler.SaveAsync(http, fleet, editor, ct));
        web.MapPost("/jit/remove", (HttpContext http, Fleet fleet, PolicyEditor editor, CancellationToken ct) => JitConfigHandler.RemoveAsync(http, fleet, editor, ct));
        web.MapGet("/machines/{group}/{name}", (HttpContext http, string group, string name, Fleet fleet, Bootstrap.InstallationContext i, CancellationToken ct)
            => MachineHandler.RenderAsync(http, group, name, fleet, i, ct));
        web.MapPost("/machines/{group}/{name}/connect", (HttpContext http, string group, string name, Fleet fleet, InitiateHandler initiate, Bootstrap.InstallationContext i,
            CancellationToken ct) => MachineHandler.ConnectAsync(http, group, name, fleet, initiate, i, ct)).RequireRateLimiting(RateLimits.Initiate);
        web.MapPost("/requests/{id}/revoke", (HttpContext http, string id, RequestHandlers requests, CancellationToken ct) => RevokeAsync(http, id, requests, ct));
        web.MapGet("/requests", (HttpContext http, string? since, string? machine, string? requestor, string? state, string? format, Fleet fleet,
            Bootstrap.InstallationContext i, CancellationToken ct) => RequestsHandler.RenderAsync(http, since, machine, requestor, state, format, fleet, i, ct));
        web.MapGet("/activity", (HttpContext http, string? since, string? actor, string? action, string? result, string? format, Storage.DrawbridgeDbContext db,
            TimeProvider time, CancellationToken ct) => ActivityHandler.RenderAsync(http, since, actor, action, result, format, db, time, ct));
        return app;
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string id, RequestHandlers requests, CancellationToken ct)
    {
        var (form, problem) = await FormBody.ReadAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var result = await requests.RevokeAsync(http, id, ct);
        if (result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            return WebPage.FromProblem(await Viewer.LoadAsync(http, ct), result);
        }

        var back = form!["returnUrl"].ToString();
        return WebPage.SeeOther(SessionEndpoints.IsLocal(back) ? back : "/requests");
    }
}
