using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Http;

/// <summary>Refuses routes whose {subscriptionId} or {resourceGroupName} does not exist, with Azure's codes.</summary>
internal sealed class ArmScopeFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var installation = http.RequestServices.GetRequiredService<InstallationContext>();
        var sub = http.GetRouteValue("subscriptionId") as string;
        if (!Guid.TryParse(sub, out var subscription) || subscription != installation.SubscriptionId)
        {
            return Problems.NotFound($"The subscription '{sub}' could not be found.", "SubscriptionNotFound");
        }

        if (http.GetRouteValue("resourceGroupName") is string rg)
        {
            var db = http.RequestServices.GetRequiredService<DrawbridgeDbContext>();
            var key = ArmIds.Key(rg);
            if (!await db.ResourceGroups.AnyAsync(r => r.NameKey == key, http.RequestAborted))
            {
                return Problems.NotFound($"Resource group '{rg}' could not be found.", "ResourceGroupNotFound");
            }
        }

        return await next(context);
    }
}
