namespace Drawbridge.Authorization;

/// <summary>
/// Every operation Drawbridge authorizes, as an Azure-style action string (provider/resource/operation). Role
/// definitions grant them by pattern; endpoints declare the one they need; audit events name the one decided.
/// </summary>
public static class Actions
{
    public const string VirtualMachineRead = "Microsoft.Compute/virtualMachines/read";

    public const string JitPolicyRead = "Microsoft.Security/locations/jitNetworkAccessPolicies/read";
    public const string JitPolicyWrite = "Microsoft.Security/locations/jitNetworkAccessPolicies/write";
    public const string JitPolicyDelete = "Microsoft.Security/locations/jitNetworkAccessPolicies/delete";
    public const string JitInitiate = "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";

    /// <summary>Reading requests made by others; everyone sees their own.</summary>
    public const string JitRequestRead = "Microsoft.Security/jitNetworkAccessRequests/read";

    /// <summary>Revoking requests made by others; everyone may revoke their own.</summary>
    public const string JitRequestRevoke = "Microsoft.Security/jitNetworkAccessRequests/revoke/action";
    public const string JitRequestExpire = "Microsoft.Security/jitNetworkAccessRequests/expire";

    public const string AssessmentRead = "Microsoft.Security/assessments/read";

    public const string NsgRead = "Microsoft.Network/networkSecurityGroups/read";
    public const string NsgWrite = "Microsoft.Network/networkSecurityGroups/write";
    public const string NsgDelete = "Microsoft.Network/networkSecurityGroups/delete";

    /// <summary>Reading a cloud inventory (az/aws JSON) into machines and network security groups.</summary>
    public const string InventoryImport = "Drawbridge/inventory/import/action";

    public const string RoleAssignmentRead = "Microsoft.Authorization/roleAssignments/read";
    public const string RoleAssignmentWrite = "Microsoft.Authorization/roleAssignments/write";
    public const string RoleAssignmentDelete = "Microsoft.Authorization/roleAssignments/delete";

    public const string UserRead = "Drawbridge/users/read";
    public const string UserWrite = "Drawbridge/users/write";
    public const string UserLogin = "Drawbridge/users/login/action";

    /// <summary>Tokens of other principals; everyone manages their own.</summary>
    public const string TokenRead = "Drawbridge/tokens/read";
    public const string TokenWrite = "Drawbridge/tokens/write";
    public const string TokenDelete = "Drawbridge/tokens/delete";

    public const string EnrollmentTokenWrite = "Drawbridge/enrollmentTokens/write";
    public const string AuditRead = "Drawbridge/auditEvents/read";
    public const string Bootstrap = "Drawbridge/installation/bootstrap";

    /// <summary>Presenting a credential (token, password, OIDC token); audited when it fails.</summary>
    public const string Authenticate = "Drawbridge/authenticate/action";

    public const string AgentEnroll = "Drawbridge.Agent/machines/enroll/action";
    public const string AgentStateRead = "Drawbridge.Agent/machines/state/read";
    public const string AgentApply = "Drawbridge.Agent/machines/applied/action";
}
