namespace Drawbridge.Authorization;

/// <summary>
/// A role as Azure defines one: the action patterns it grants (<c>*</c> matches any run of characters, case-insensitive)
/// minus the patterns in <see cref="NotActions"/>.
/// </summary>
public sealed record RoleDefinition(string Name, string Description, IReadOnlyList<string> Actions, IReadOnlyList<string> NotActions)
{
    public bool Grants(string action) =>
        Actions.Any(pattern => ActionPattern.Matches(pattern, action)) && !NotActions.Any(pattern => ActionPattern.Matches(pattern, action));
}

/// <summary>The built-in roles of DESIGN.md. There are no custom roles.</summary>
public static class BuiltInRoles
{
    public static readonly RoleDefinition Owner = new(
        "Owner", "Everything, including who may do what.",
        ["*"], ["Drawbridge.Agent/*"]);

    public static readonly RoleDefinition JitAdministrator = new(
        "JitAdministrator", "Write JIT policies, approve and revoke requests, enroll agents, read the audit log, users and role assignments.",
        ["Microsoft.Security/*", "Microsoft.Network/*", Actions.VirtualMachineRead, Actions.EnrollmentTokenWrite, Actions.AuditRead,
         Actions.RoleAssignmentRead, Actions.UserRead],
        []);

    public static readonly RoleDefinition JitRequester = new(
        "JitRequester", "See JIT-protected machines and request access to them.",
        [Actions.VirtualMachineRead, Actions.JitPolicyRead, Actions.JitInitiate],
        []);

    public static readonly RoleDefinition Approver = new(
        "Approver", "Read everything, including others' requests (approval workflows are not built yet).",
        ["*/read"], []);

    public static readonly RoleDefinition SecurityReader = new(
        "SecurityReader", "Read everything, change nothing.",
        ["*/read"], []);

    /// <summary>Held only by agent credentials, always at their own machine's scope.</summary>
    public static readonly RoleDefinition Agent = new(
        "Agent", "Read and report the state of one machine.",
        ["Drawbridge.Agent/*"], []);

    public static readonly IReadOnlyList<RoleDefinition> All = [Owner, JitAdministrator, JitRequester, Approver, SecurityReader, Agent];

    /// <summary>The roles a person can be assigned (Agent belongs to agent credentials only).</summary>
    public static readonly IReadOnlyList<RoleDefinition> Assignable = [Owner, JitAdministrator, JitRequester, Approver, SecurityReader];

    public static RoleDefinition? Find(string? name) =>
        All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(r.Name, name?.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Azure's action wildcard: <c>*</c> stands for any run of characters, letters compare case-insensitively.</summary>
public static class ActionPattern
{
    public static bool Matches(string pattern, string action) => Matches(pattern.AsSpan(), action.AsSpan());

    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var star = pattern.IndexOf('*');
        if (star < 0)
        {
            return pattern.Equals(text, StringComparison.OrdinalIgnoreCase);
        }

        if (!text.StartsWith(pattern[..star], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = pattern[(star + 1)..];
        for (var i = star; i <= text.Length; i++)
        {
            if (Matches(rest, text[i..]))
            {
                return true;
            }
        }

        return false;
    }
}
