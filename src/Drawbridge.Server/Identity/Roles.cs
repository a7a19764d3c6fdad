namespace Drawbridge.Server.Identity;

/// <summary>
/// Built-in roles. Until role assignments at scopes exist (see docs/architecture.md), a token carries one role
/// that applies to the whole subscription.
/// </summary>
internal static class Roles
{
    public const string Owner = "Owner";
    public const string JitAdministrator = "JitAdministrator";
    public const string JitRequester = "JitRequester";
    public const string Approver = "Approver";
    public const string SecurityReader = "SecurityReader";

    public static readonly string[] All = [Owner, JitAdministrator, JitRequester, Approver, SecurityReader];
}

/// <summary>Authorization policies, named after what they allow.</summary>
internal static class Policies
{
    public const string Read = "read";
    public const string Initiate = "initiate";
    public const string ManageJit = "manage-jit";
    public const string ManageAgents = "manage-agents";
    public const string Agent = "agent";
    public const string ReadAudit = "read-audit";
    public const string ManageTokens = "manage-tokens";

    public static IServiceCollection AddDrawbridgeAuthorization(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .AddPolicy(Read, p => p.RequireRole(Roles.All))
            .AddPolicy(Initiate, p => p.RequireRole(Roles.Owner, Roles.JitAdministrator, Roles.JitRequester))
            .AddPolicy(ManageJit, p => p.RequireRole(Roles.Owner, Roles.JitAdministrator))
            .AddPolicy(ManageAgents, p => p.RequireRole(Roles.Owner, Roles.JitAdministrator))
            .AddPolicy(Agent, p => p.RequireClaim(DrawbridgeClaims.MachineId))
            .AddPolicy(ReadAudit, p => p.RequireRole(Roles.Owner, Roles.JitAdministrator, Roles.SecurityReader, Roles.Approver))
            .AddPolicy(ManageTokens, p => p.RequireRole(Roles.Owner));
        return services;
    }

    public static bool IsAdministrator(this System.Security.Claims.ClaimsPrincipal user) =>
        user.IsInRole(Roles.Owner) || user.IsInRole(Roles.JitAdministrator);

    public static bool CanReadEverything(this System.Security.Claims.ClaimsPrincipal user) =>
        user.IsAdministrator() || user.IsInRole(Roles.SecurityReader) || user.IsInRole(Roles.Approver);
}

internal static class DrawbridgeClaims
{
    public const string MachineId = "drawbridge:machine";
}
