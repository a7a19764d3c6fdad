using System.Text.Json;
using System.Text.Json.Serialization;

namespace Drawbridge.Contracts;

/// <summary>Source-generated serialization for every wire type, so agent and CLI stay free of reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(ArmList<JitNetworkAccessPolicy>))]
[JsonSerializable(typeof(ArmList<VirtualMachine>))]
[JsonSerializable(typeof(ArmList<JitNetworkAccessRequest>))]
[JsonSerializable(typeof(JitNetworkAccessPolicy))]
[JsonSerializable(typeof(JitNetworkAccessPolicyInitiateRequest))]
[JsonSerializable(typeof(JitNetworkAccessRequest))]
[JsonSerializable(typeof(VirtualMachine))]
[JsonSerializable(typeof(AgentEnrollRequest))]
[JsonSerializable(typeof(AgentEnrollResponse))]
[JsonSerializable(typeof(DesiredState))]
[JsonSerializable(typeof(AgentAppliedReport))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(EnrollmentTokenCreateRequest))]
[JsonSerializable(typeof(EnrollmentTokenCreated))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(SecurityAssessment))]
[JsonSerializable(typeof(ArmList<SecurityAssessment>))]
[JsonSerializable(typeof(List<AuditEventView>))]
[JsonSerializable(typeof(AuditEventView))]
[JsonSerializable(typeof(AuditVerification))]
[JsonSerializable(typeof(ApiTokenCreateRequest))]
[JsonSerializable(typeof(ApiTokenView))]
[JsonSerializable(typeof(List<ApiTokenView>))]
[JsonSerializable(typeof(UserCreateRequest))]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(List<UserView>))]
[JsonSerializable(typeof(RoleAssignmentCreateRequest))]
[JsonSerializable(typeof(RoleAssignmentView))]
[JsonSerializable(typeof(List<RoleAssignmentView>))]
[JsonSerializable(typeof(List<RoleDefinitionView>))]
[JsonSerializable(typeof(NetworkSecurityGroupResource))]
[JsonSerializable(typeof(ArmList<NetworkSecurityGroupResource>))]
[JsonSerializable(typeof(SecurityRuleResource))]
[JsonSerializable(typeof(ArmList<SecurityRuleResource>))]
[JsonSerializable(typeof(EffectiveNetworkAccess))]
[JsonSerializable(typeof(InventoryImport))]
[JsonSerializable(typeof(InventoryImportResult))]
public sealed partial class DrawbridgeJson : JsonSerializerContext
{
    /// <summary>
    /// The instance every Drawbridge process reads and writes with. The output is JSON for APIs, never embedded in
    /// HTML, so characters like ' and &lt; are written as themselves instead of \u0027 escapes.
    /// </summary>
    public static DrawbridgeJson Wire { get; } = new(WireOptions(indented: false));

    /// <summary>The same, indented for people (the CLI's -o json).</summary>
    public static DrawbridgeJson Indented { get; } = new(WireOptions(indented: true));

    private static JsonSerializerOptions WireOptions(bool indented) => new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
