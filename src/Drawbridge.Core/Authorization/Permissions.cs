namespace Drawbridge.Authorization;

/// <summary>One role held at one scope.</summary>
public sealed record HeldRole(RoleDefinition Role, AccessScope Scope);

/// <summary>
/// What one caller may do: the union of their role assignments, each inherited downwards from its scope.
/// "May see" is wider than any one action: a caller with anything at or below a scope knows that scope exists,
/// so a refusal there is a 403; a caller with nothing there gets a 404, as if it did not exist.
/// </summary>
public sealed class Permissions(IReadOnlyList<HeldRole> roles)
{
    public static readonly Permissions None = new([]);

    public IReadOnlyList<HeldRole> Roles { get; } = roles;

    /// <summary>True when a role held at <paramref name="scope"/> or above grants <paramref name="action"/>.</summary>
    public bool Allows(string action, AccessScope scope) => Roles.Any(held => held.Scope.Contains(scope) && held.Role.Grants(action));

    /// <summary>True when <paramref name="action"/> is granted at <paramref name="scope"/>, above it, or anywhere below it.</summary>
    public bool AllowsWithin(string action, AccessScope scope) =>
        Roles.Any(held => (held.Scope.Contains(scope) || scope.Contains(held.Scope)) && held.Role.Grants(action));

    /// <summary>True when the caller holds any role at, above or below <paramref name="scope"/>.</summary>
    public bool Sees(AccessScope scope) => Roles.Any(held => held.Scope.Contains(scope) || scope.Contains(held.Scope));

    /// <summary>The outcome for a caller asking for <paramref name="action"/> on one resource at <paramref name="scope"/>.</summary>
    public AccessDecision Decide(string action, AccessScope scope) =>
        Allows(action, scope) ? AccessDecision.Allowed : Sees(scope) ? AccessDecision.Forbidden : AccessDecision.NotFound;

    /// <summary>The outcome for a collection at <paramref name="scope"/>, whose parts the caller may hold the action on.</summary>
    public AccessDecision DecideWithin(string action, AccessScope scope) =>
        AllowsWithin(action, scope) ? AccessDecision.Allowed : Sees(scope) ? AccessDecision.Forbidden : AccessDecision.NotFound;
}

public enum AccessDecision
{
    Allowed,

    /// <summary>The caller knows the resource is there but may not do this: 403.</summary>
    Forbidden,

    /// <summary>The caller may not know the resource exists: 404.</summary>
    NotFound,
}
