using Drawbridge.Contracts;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;

namespace Drawbridge.Server.Identity;

internal static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Identity").RequireAuthorization(Policies.Read);

        // What the CLI's login checks, and the address the server will open ports for by default.
        api.MapGet("/whoami", (HttpContext http, InstallationContext installation) => TypedResults.Json(new WhoAmI
        {
            Principal = http.User.Name(),
            Role = Roles.All.FirstOrDefault(http.User.IsInRole),
            SubscriptionId = installation.SubscriptionId.ToString(),
            ObservedAddress = ClientAddress.Observed(http).ToString(),
        }, DrawbridgeJson.Wire.WhoAmI));

        app.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous();
        return app;
    }
}
