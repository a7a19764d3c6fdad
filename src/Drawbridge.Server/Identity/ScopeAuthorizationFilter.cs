using Drawbridge.Authorization;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Checks the endpoint's declared action at the scope its route names, before anything else looks at the request.
/// Order matters against probing: the subscription is checked first (there is one, and every caller knows it), then
/// the caller's permission, and only then whether the resource group exists, so a caller without access to a group
/// cannot learn whether it exists. Refusals go through <see cref="CallerPermissions.RefuseAsync"/>.
/// </summary>
internal sealed class ScopeAuthorizationFilter : IEndpointFilter
{
    // Compiled once: every call under a resource group checks it (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, CancellationToken, Task<bool>>> GroupExists =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string key, CancellationToken ct) => db.ResourceGroups.Any(r => r.NameKey == key)));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetEndpoint()?.Metadata.GetMetadata<RequiredAction>() is not { } required)
        {
            return await next(context);
        }

        var installation = http.RequestServices.GetRequiredService<InstallationContext>();
        var sub = http.GetRouteValue("subscriptionId") as string;
        if (sub is not null && (!Guid.TryParse(sub, out var subscription) || subscription != installation.SubscriptionId))
        {
            return Problems.NotFound($"The subscription '{sub}' could not be found.", "SubscriptionNotFound");
        }

        var rg = http.GetRouteValue("resourceGroupName") as string;
        if (rg is not null && !ArmIds.IsValidName(rg))
        {
            // No group can have this name, so saying so tells nobody anything.
            return GroupNotFound(rg);
        }

        var caller = http.RequestServices.GetRequiredService<CallerPermissions>();
        var scope = ScopeOf(http, required, caller, rg);
        var permissions = await caller.GetAsync(http.RequestAborted);
        var decision = scope is null ? AccessDecision.Forbidden
            : required.Scope == ActionScope.Within ? permissions.DecideWithin(required.Action, scope)
            : permissions.Decide(required.Action, scope);
        if (decision != AccessDecision.Allowed)
        {
            return await caller.RefuseAsync(required.Action, scope?.Key ?? http.Request.Path.ToString(), decision);
        }

        if (rg is not null)
        {
            var db = http.RequestServices.GetRequiredService<DrawbridgeDbContext>();
            if (!await GroupExists.For(db)(db, ArmIds.Key(rg), http.RequestAborted))
            {
                return GroupNotFound(rg);
            }
        }

        return await next(context);
    }

    private static AccessScope? ScopeOf(HttpContext http, RequiredAction required, CallerPermissions caller, string? rg)
    {
        if (required.Scope == ActionScope.CallerMachine)
        {
            return caller.AgentMachine(http.User);
        }

        if (rg is null)
        {
            // Drawbridge's own routes (/api/v1) act on the whole installation.
            return caller.Subscription;
        }

        // A machine name no machine can have is checked at its group; the handler then finds nothing.
        return http.GetRouteValue("vmName") is string vm && ArmIds.IsValidName(vm) ? caller.Machine(rg, vm) : caller.ResourceGroup(rg);
    }

    private static IResult GroupNotFound(string rg) => Problems.NotFound($"Resource group '{rg}' could not be found.", "ResourceGroupNotFound");
}
