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
        return services;
    }

    public static IEndpointRouteBuilder MapJitEndpoints(this IEndpointRouteBuilder app)
    {
        const string Provider = "providers/Microsoft.Security";
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("JIT")
            .RequireApiVersion(ApiVersions.Security)
            .AddEndpointFilter<ArmScopeFilter>()
            .RequireAuthorization(Policies.Read);

        sub.MapGet($"{Provider}/jitNetworkAccessPolicies", (JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(null, null, ct));
        sub.MapGet($"{Provider}/locations/{{location}}/jitNetworkAccessPolicies", (string location, JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(null, location, ct));

        var rg = sub.MapGroup("resourceGroups/{resourceGroupName}");
        rg.MapGet($"{Provider}/jitNetworkAccessPolicies", (string resourceGroupName, JitPolicyHandlers h, CancellationToken ct) => h.ListAsync(resourceGroupName, null, ct));
        rg.MapGet($"{Provider}/locations/{{location}}/jitNetworkAccessPolicies", (string resourceGroupName, string location, JitPolicyHandlers h, CancellationToken ct)
            => h.ListAsync(resourceGroupName, location, ct));

        const string Policy = $"{Provider}/locations/{{location}}/jitNetworkAccessPolicies/{{name}}";
        rg.MapGet(Policy, (string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.GetAsync(resourceGroupName, location, name, ct));
        rg.MapPut(Policy, (HttpContext http, string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.PutAsync(http, resourceGroupName, location, name, ct)).RequireAuthorization(Policies.ManageJit);
        rg.MapDelete(Policy, (HttpContext http, string resourceGroupName, string location, string name, JitPolicyHandlers h, CancellationToken ct)
            => h.DeleteAsync(http, resourceGroupName, location, name, ct)).RequireAuthorization(Policies.ManageJit);
        rg.MapPost($"{Policy}/initiate", (HttpContext http, string resourceGroupName, string location, string name, InitiateHandler h, CancellationToken ct)
            => h.HandleAsync(http, resourceGroupName, location, name, ct)).RequireAuthorization(Policies.Initiate).RequireRateLimiting(RateLimits.Initiate);

        // Drawbridge extension: requests by id.
        sub.MapGet($"{Provider}/jitNetworkAccessRequests", (HttpContext http, bool? active, RequestHandlers h, CancellationToken ct)
            => h.ListAsync(http.User, active ?? false, ct));
        sub.MapGet($"{Provider}/jitNetworkAccessRequests/{{id}}", (HttpContext http, string id, RequestHandlers h, CancellationToken ct)
            => h.GetAsync(http.User, id, ct));
        sub.MapPost($"{Provider}/jitNetworkAccessRequests/{{id}}/revoke", (HttpContext http, string id, RequestHandlers h, CancellationToken ct)
            => h.RevokeAsync(http, id, ct)).RequireAuthorization(Policies.Initiate);
        return app;
    }
}
