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
/// control" per machine, as Microsoft.Security/assessments, from its JIT policy, its network security groups, whether
/// an agent enforces on it and what that agent saw on the host.
/// </summary>
internal static class AssessmentEndpoints
{
    public static IEndpointRouteBuilder MapAssessmentEndpoints(this IEndpointRouteBuilder app)
    {
        var sub = app.MapGroup("/subscriptions/{subscriptionId}").WithTags("Posture").RequireApiVersion(ApiVersions.Assessments);
        sub.MapGet("providers/Microsoft.Security/assessments", async (DrawbridgeDbContext db, InstallationContext i, CallerPermissions caller, ArmPaging paging, CancellationToken ct) =>
            {
                var permissions = await caller.GetAsync(ct);
                var list = await ListAsync(db, i, null, m => permissions.Allows(Actions.AssessmentRead, caller.Machine(m.ResourceGroup, m.Name)), ct);
                return paging.Json(list.Value, DrawbridgeJson.Wire.ArmListSecurityAssessment);
            })
            .RequireAction(Actions.AssessmentRead, ActionScope.Within);
        sub.MapGet($"resourceGroups/{{resourceGroupName}}/providers/Microsoft.Compute/virtualMachines/{{vmName}}/providers/Microsoft.Security/assessments/{{key}}",
            async (string resourceGroupName, string vmName, string key, DrawbridgeDbContext db, InstallationContext i, CancellationToken ct) =>
            {
                var list = string.Equals(key, JitAssessment.Key, StringComparison.OrdinalIgnoreCase)
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

        var rows = (await machines.OrderBy(m => m.ResourceGroup).ThenBy(m => m.NameKey).ToListAsync(ct))
            .Where(m => visible((m.ResourceGroup, m.Name)))
            .ToList();
        var list = new ArmList<SecurityAssessment>();
        foreach (var (machine, input, nsgs) in await PostureInputs.LoadAsync(db, rows, ct))
        {
            var result = PostureAssessment.Assess(input);
            var vmId = ArmIds.VirtualMachine(installation.SubscriptionId, machine.ResourceGroup, machine.Name);
            list.Value.Add(new SecurityAssessment
            {
                Id = $"{vmId}/providers/Microsoft.Security/assessments/{JitAssessment.Key}",
                Name = JitAssessment.Key,
                Type = "Microsoft.Security/assessments",
                Properties = new SecurityAssessmentProperties
                {
                    DisplayName = JitAssessment.DisplayName,
                    // "Azure" is the one source whose details carry a resource id, which Azure's SDKs read; where the
                    // machine really comes from is in additionalData.machineSource.
                    ResourceDetails = new AssessmentResourceDetails { Source = "Azure", Id = vmId },
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
                    AdditionalData = Details(machine, result, input.JitPorts ?? new HashSet<int>(), nsgs, installation.SubscriptionId),
                },
            });
        }

        return list;
    }

    /// <summary>
    /// Where the machine comes from (an enrolled agent, or an Azure or AWS import) and, when a rule exposes it, what a
    /// remediation needs to narrow or remove that rule (the first one reported).
    /// </summary>
    private static Dictionary<string, string> Details(
        Machine machine, PostureResult result, IReadOnlySet<int> jitPorts, IReadOnlyList<(SecurityGroup Group, NetworkSecurityGroup Nsg)> groups, Guid subscription)
    {
        var details = new Dictionary<string, string> { ["machineSource"] = machine.ImportedFrom ?? "Agent" };
        if (result.Exposures.Count == 0)
        {
            return details;
        }

        var first = result.Exposures.FirstOrDefault(e => jitPorts.Contains(e.Port)) ?? result.Exposures[0];
        var group = groups.First(g => ReferenceEquals(g.Nsg, first.Nsg)).Group;
        var exposed = result.Exposures.Where(e => e.Rule == first.Rule).Select(e => e.Port).Distinct().Order();
        details["networkSecurityGroupId"] = ArmIds.NetworkSecurityGroup(subscription, group.ResourceGroup, group.Name);
        details["securityRule"] = first.Rule.Name;
        details["exposedPorts"] = string.Join(',', exposed);
        details["jitBypassed"] = jitPorts.Contains(first.Port) ? "true" : "false";
        return details;
    }
}
