using Drawbridge.Authorization;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;

namespace Drawbridge.Server.Network;

internal static class SecurityGroupEndpoints
{
    public static IServiceCollection AddNetwork(this IServiceCollection services) =>
        services.AddScoped<SecurityGroupHandlers>().AddScoped<InventoryImportHandler>();

    public static IEndpointRouteBuilder MapSecurityGroupEndpoints(this IEndpointRouteBuilder app)
    {
        const string Provider = "providers/Microsoft.Network/networkSecurityGroups";
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("Network").RequireApiVersion(ApiVersions.Network);
        sub.MapGet(Provider, (SecurityGroupHandlers h, CancellationToken ct) => h.ListAsync(null, ct))
            .RequireAction(Actions.NsgRead, ActionScope.Within);

        // A group lives in a resource group: writing one needs the right at the group (or above). Reading one is also
        // open to whoever reads groups at a machine it applies to (checked in the handler).
        var rg = sub.MapGroup("resourceGroups/{resourceGroupName}");
        rg.MapGet(Provider, (string resourceGroupName, SecurityGroupHandlers h, CancellationToken ct) => h.ListAsync(resourceGroupName, ct))
            .RequireAction(Actions.NsgRead, ActionScope.Within);
        rg.MapGet($"{Provider}/{{name}}", (string resourceGroupName, string name, SecurityGroupHandlers h, CancellationToken ct)
            => h.GetAsync(resourceGroupName, name, ct)).RequireAction(Actions.NsgRead, ActionScope.Within);
        rg.MapPut($"{Provider}/{{name}}", (HttpContext http, string resourceGroupName, string name, SecurityGroupHandlers h, CancellationToken ct)
            => h.PutAsync(http, resourceGroupName, name, ct)).RequireAction(Actions.NsgWrite);
        rg.MapDelete($"{Provider}/{{name}}", (HttpContext http, string resourceGroupName, string name, SecurityGroupHandlers h, CancellationToken ct)
            => h.DeleteAsync(http, resourceGroupName, name, ct)).RequireAction(Actions.NsgDelete);

        // Imports create resource groups, machines and groups anywhere in the installation: a subscription-level action.
        app.MapPost("/api/v1/inventory/import", (HttpContext http, InventoryImportHandler h, CancellationToken ct) => h.ImportAsync(http, ct))
            .WithTags("Network").RequireAction(Actions.InventoryImport);
        return app;
    }
}
