using Drawbridge.Contracts;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;

namespace Drawbridge.Server.Identity;

internal static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        // What the CLI's login checks: who the server thinks you are, your roles, and the address it will open ports for by default.
        app.MapGet("/api/v1/whoami", async (HttpContext http, InstallationContext installation, CallerPermissions caller, CancellationToken ct) =>
        {
            var permissions = await caller.GetAsync(ct);
            return TypedResults.Json(new WhoAmI
            {
                Principal = http.User.Name(),
                AuthenticatedBy = http.User.Identity?.AuthenticationType,
                Roles = permissions.Roles.Select(r => new RoleAssignmentView { Principal = http.User.Name(), Role = r.Role.Name, Scope = r.Scope.Key }).ToList(),
                SubscriptionId = installation.SubscriptionId.ToString(),
                ObservedAddress = ClientAddress.Observed(http).ToString(),
            }, DrawbridgeJson.Wire.WhoAmI);
        }).WithTags("Identity").AllowAnyCaller("it tells callers only about themselves");

        app.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous();
        return app;
    }
}
