using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Posture;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Posture;

/// <summary>
/// The recommendation "Management ports of virtual machines should be protected with just-in-time network access
/// control" per machine, as Microsoft.Security/assessments. Network security groups are not resources yet, so today
/// the inputs are the machine's JIT policy and whether an agent can enforce on it (see docs/architecture.md).
/// </summary>
internal static class AssessmentEndpoints
{
    /// <summary>The assessment key Azure uses for this recommendation (built-in policy ASC_JITNetworkAccess_Audit).</summary>
    public const string JitAssessmentKey = "805651bc-6ecd-4c73-9b55-97a19d0582d0";
    public const string JitAssessmentName = "Management ports of virtual machines should be protected with just-in-time network access control";

    public static IEndpointRouteBuilder MapAssessmentEndpoints(this IEndpointRouteBuilder app)
    {
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("Posture").RequireApiVersion(ApiVersions.Security);
        sub.MapGet("providers/Microsoft.Security/assessments", async (DrawbridgeDbContext db, InstallationContext i, CallerPermissions caller, CancellationToken ct) =>
            {
                var permissions = await caller.GetAsync(ct);
                return await ListAsync(db, i, null, m => permissions.Allows(Actions.AssessmentRead, caller.Machine(m.ResourceGroup, m.Name)), ct);
            })
            .RequireAction(Actions.AssessmentRead, ActionScope.Within);
        sub.MapGet($"resourceGroups/{{resourceGroupName}}/providers/Microsoft.Compute/virtualMachines/{{vmName}}/providers/Microsoft.Security/assessments/{{key}}",
            async (string resourceGroupName, string vmName, string key, DrawbridgeDbContext db, InstallationContext i, CancellationToken ct) =>
            {
                var list = string.Equals(key, JitAssessmentKey, StringComparison.OrdinalIgnoreCase)
                    ? await ListAsync(db, i, (ArmIds.Key(resourceGroupName), ArmIds.Key(vmName)), _ => true, ct)
                    : new ArmList<SecurityAssessment>();
                return list.Value.Count == 0
                    ? Problems.NotFound($"The assessment '{key}' of virtual machine '{vmName}' could not be found.")
                    : TypedResults.Json(list.Value[0], DrawbridgeJson.Wire.SecurityAssessment);
            })
            .RequireAction(Actions.AssessmentRead);
        return app;
    }

    private static async Task<ArmList<SecurityAssessment>> ListAsync(DrawbridgeDbContext db, InstallationContext installation, (string Rg, string Name)? only,
        Func<(string ResourceGroup, string Name), bool> visible, CancellationToken ct)
    {
        var machines = db.Machines.AsNoTracking();
        if (only is { } one)
        {
            machines = machines.Where(m => m.ResourceGroup == one.Rg && m.NameKey == one.Name);
        }

        var rows = (await machines.OrderBy(m => m.ResourceGroup).ThenBy(m => m.NameKey)
            .Select(m => new { m.Id, m.ResourceGroup, m.Name, HasAgent = m.AgentCredentialHash != null })
            .ToListAsync(ct))
            .Where(m => visible((m.ResourceGroup, m.Name)))
            .ToList();
        var ids = rows.Select(r => r.Id).ToList();
        var jitPorts = (await db.JitPolicyPorts.AsNoTracking().Where(p => ids.Contains(p.MachineId)).Select(p => new { p.MachineId, p.Number }).ToListAsync(ct))
            .ToLookup(p => p.MachineId, p => p.Number);

        var list = new ArmList<SecurityAssessment>();
        foreach (var machine in rows)
        {
            var ports = jitPorts[machine.Id].ToHashSet();
            var result = PostureAssessment.Assess(new PostureInput(ports.Count > 0 ? ports : null, [], machine.HasAgent));
            var vmId = ArmIds.VirtualMachine(installation.SubscriptionId, machine.ResourceGroup, machine.Name);
            list.Value.Add(new SecurityAssessment
            {
                Id = $"{vmId}/providers/Microsoft.Security/assessments/{JitAssessmentKey}",
                Name = JitAssessmentKey,
                Type = "Microsoft.Security/assessments",
                Properties = new SecurityAssessmentProperties
                {
                    DisplayName = JitAssessmentName,
                    ResourceDetails = new AssessmentResourceDetails { Source = "OnPremise", Id = vmId },
                    Status = new AssessmentStatus
                    {
                        Code = result.State.ToString(),
                        Cause = result.State switch
                        {
                            PostureState.Healthy => "JitEnabledOrNotExposed",
                            PostureState.Unhealthy => result.Exposures.Count > 0 ? "ManagementPortsExposed" : "ManagementPortsUnrestricted",
                            PostureState.NotApplicable => "NoEnforcementPoint",
                        },
                        Description = result.Reason,
                    },
                },
            });
        }

        return list;
    }
}
