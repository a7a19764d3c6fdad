namespace Drawbridge.Contracts;

// Users, personal API tokens and role assignments (/api/v1).

public sealed class ApiTokenCreateRequest
{
    /// <summary>Whose token; default the caller. Creating one for someone else needs Drawbridge/tokens/write.</summary>
    public string? Principal { get; set; }
    public string? Ttl { get; set; }
    public string? Description { get; set; }
}

public sealed class ApiTokenView
{
    public string? Id { get; set; }
    public string? Principal { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset? ExpiresUtc { get; set; }
    public DateTimeOffset? RevokedUtc { get; set; }

    /// <summary>The secret, present only in the response that created it.</summary>
    public string? Token { get; set; }
}

public sealed class UserCreateRequest
{
    public string? Name { get; set; }
    public string? DisplayName { get; set; }

    /// <summary>For signing in to the web UI; leave out for users who only use tokens.</summary>
    public string? Password { get; set; }
}

public sealed class UserView
{
    public string? Name { get; set; }
    public string? DisplayName { get; set; }
    public bool HasPassword { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset? DisabledUtc { get; set; }
}

public sealed class RoleAssignmentCreateRequest
{
    public string? Principal { get; set; }
    public string? Role { get; set; }

    /// <summary>/subscriptions/{id}, .../resourceGroups/{rg} or .../providers/Microsoft.Compute/virtualMachines/{name}.</summary>
    public string? Scope { get; set; }
}

public sealed class RoleAssignmentView
{
    public string? Id { get; set; }
    public string? Principal { get; set; }
    public string? Role { get; set; }
    public string? Scope { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public string? CreatedBy { get; set; }
}

public sealed class RoleDefinitionView
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public List<string> Actions { get; set; } = [];
    public List<string> NotActions { get; set; } = [];
}
