using Drawbridge.Authorization;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;

namespace Drawbridge.Server.Jit;

internal static class JitEndpoints
{
    public static IServiceCollection AddJit(this IServiceCollection services)
    {
        services.AddScoped<JitPolicyHandlers>().AddScoped<InitiateHandler>().AddScoped<RequestHandlers>();
        services.AddSingleton<GrantExpiryService>();
        services.AddHostedService(sp => sp.GetRequiredService<GrantExpiryService>());
        services.AddSingleton<InitiateWriter>();
        return services;
    }

    public static IEndpointRouteBuilder MapJitEndpoints(this IEndpointRouteBuilder app)
    {
        const string Provider = "providers/Microsoft.Security";
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("JIT").RequireApiVersion(ApiVersions.Security);

        // Lists and reads are open to anyone who can read a policy somewhere inside the scope; the handlers show each
        // caller only the machines their scopes cover.
        sub.MapGet($"{Provider}/jitNetworkAccessPolicies", (JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(null, null, ct))
            .RequireAction(Actions.JitPolicyRead, ActionScope.Within);
        sub.MapGet($"{Provider}/locations/{{location}}/jitNetworkAccessPolicies", (string location, JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(null, location, ct))
            .RequireAction(Actions.JitPolicyRead, ActionScope.Within);

        var rg = sub.MapGroup("resourceGroups/{resourceGroupName}");
        rg.MapGet($"{Provider}/jitNetworkAccessPolicies", (string resourceGroupName, JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(resourceGroupName, null, ct))
            .RequireAction(Actions.JitPolicyRead, ActionScope.Within);
        rg.MapGet($"{Provider}/locations/{{location}}/jitNetworkAccessPolicies", (string resourceGroupName, string location, JitPolicyHandlers h, CancellationToken ct)
            => h.ListAsync(resourceGroupName, location, ct)).RequireAction(Actions.JitPolicyRead, ActionScope.Within);

        // A policy lives in a resource group: writing one needs the right at the group (or above).
        const string Policy = $"{Provider}/locations/{{location}}/jitNetworkAccessPolicies/{{name}}";
        rg.MapGet(Policy, (string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.GetAsync(resourceGroupName, location, name, ct)).RequireAction(Actions.JitPolicyRead, ActionScope.Within);
        rg.MapPut(Policy, (HttpContext http, string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.PutAsync(http, resourceGroupName, location, name, ct)).RequireAction(Actions.JitPolicyWrite);
        rg.MapDelete(Policy, (HttpContext http, string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.DeleteAsync(http, resourceGroupName, location, name, ct)).RequireAction(Actions.JitPolicyDelete);

        // Initiate is authorized per machine in the body: a requester assigned to one machine may open only that one.
        rg.MapPost($"{Policy}/initiate", (HttpContext http, string resourceGroupName, string location, string name, InitiateHandler h, CancellationToken ct)
            => h.HandleAsync(http, resourceGroupName, location, name, ct)).RequireAction(Actions.JitInitiate, ActionScope.Within).RequireRateLimiting(RateLimits.Initiate);

        // Drawbridge extension: requests by id. Everyone sees and revokes their own; others' need the request actions
        // at the machines' scopes (checked in the handler).
        sub.MapGet($"{Provider}/jitNetworkAccessRequests", (bool? active, RequestHandlers h, CancellationToken ct)
            => h.ListAsync(active ?? false, ct)).RequireAction(Actions.JitPolicyRead, ActionScope.Within);
        sub.MapGet($"{Provider}/jitNetworkAccessRequests/{{id}}", (string id, RequestHandlers h, CancellationToken ct)
            => h.GetAsync(id, ct)).RequireAction(Actions.JitPolicyRead, ActionScope.Within);
        sub.MapPost($"{Provider}/jitNetworkAccessRequests/{{id}}/revoke", (HttpContext http, string id, RequestHandlers h, CancellationToken ct)
            => h.RevokeAsync(http, id, ct)).RequireAction(Actions.JitInitiate, ActionScope.Within);
        return app;
    }
}
