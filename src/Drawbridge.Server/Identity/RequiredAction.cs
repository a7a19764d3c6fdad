namespace Drawbridge.Server.Identity;

/// <summary>How the scope an endpoint's action is checked at is found.</summary>
internal enum ActionScope
{
    /// <summary>One resource: the action must be granted at the route's scope or above (else 403, or 404 if unseen).</summary>
    Resource,

    /// <summary>
    /// A collection, or a resource whose parts are authorized one by one: the action granted anywhere at, above or
    /// below the route's scope lets the call in, and the handler shows or touches only what the caller's scopes cover.
    /// </summary>
    Within,

    /// <summary>The agent channel: the scope is the calling agent's own machine.</summary>
    CallerMachine,
}

/// <summary>The Azure-style action an endpoint needs. Every endpoint declares one, or says why it needs none.</summary>
internal sealed record RequiredAction(string Action, ActionScope Scope);

/// <summary>
/// Marks an endpoint any authenticated caller may use because its handler authorizes per record (a person's own
/// tokens, whoami). The reason is for the reader and the authorization matrix test.
/// </summary>
internal sealed record AnyCaller(string Reason);

internal static class RequiredActionExtensions
{
    public static TBuilder RequireAction<TBuilder>(this TBuilder builder, string action, ActionScope scope = ActionScope.Resource)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredAction(action, scope));

    public static TBuilder AllowAnyCaller<TBuilder>(this TBuilder builder, string reason) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AnyCaller(reason));

    /// <summary>
    /// Fails start-up when an endpoint neither declares its action nor says it is anonymous or open to any caller,
    /// so a new endpoint cannot ship unguarded by accident.
    /// </summary>
    public static void EnsureEveryEndpointDeclaresAnAction(this IEnumerable<EndpointDataSource> sources)
    {
        var undeclared = sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<RequiredAction>() is null && e.Metadata.GetMetadata<AnyCaller>() is null
                && e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null)
            .Select(e => e.DisplayName ?? e.RoutePattern.RawText)
            .ToList();
        if (undeclared.Count > 0)
        {
            throw new InvalidOperationException($"Endpoints without a declared action: {string.Join(", ", undeclared)}");
        }
    }
}
