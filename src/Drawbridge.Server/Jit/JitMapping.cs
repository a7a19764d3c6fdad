using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;

namespace Drawbridge.Server.Jit;

/// <summary>Turns stored rows into Azure's JIT shapes.</summary>
internal static class JitMapping
{
    /// <param name="ports">The policy's ports to show: all of them, or the part a caller may see.</param>
    public static JitNetworkAccessPolicy ToArm(JitPolicy policy, IEnumerable<JitPolicyPort> ports, Guid subscription, IReadOnlyDictionary<Guid, Machine> machines,
        IEnumerable<AccessRequest> requests) => new()
    {
        Id = ArmIds.JitPolicy(subscription, policy.ResourceGroup, policy.Location, policy.Name),
        Name = policy.Name,
        Type = ArmIds.JitPolicyType,
        Kind = policy.Kind,
        Location = policy.Location,
        Properties = new JitNetworkAccessPolicyProperties
        {
            ProvisioningState = "Succeeded",
            VirtualMachines = ports
                .OrderBy(p => p.Ordinal)
                .GroupBy(p => p.MachineId)
                .Select(g => new JitNetworkAccessPolicyVirtualMachine
                {
                    Id = MachineId(subscription, machines, g.Key),
                    Ports = g.Select(ToArm).ToList(),
                })
                .ToList(),
            Requests = requests.Select(r => ToArm(r, subscription, machines)).ToList(),
        },
    };

    public static JitNetworkAccessPortRule ToArm(JitPolicyPort port)
    {
        var sources = SplitList(port.AllowedSources);
        return new JitNetworkAccessPortRule
        {
            Number = port.Number,
            Protocol = port.Protocol.ToAzure(),
            AllowedSourceAddressPrefix = sources.Count == 0 ? "*" : sources.Count == 1 ? sources[0] : null,
            AllowedSourceAddressPrefixes = sources.Count > 1 ? sources : null,
            MaxRequestAccessDuration = JitDuration.ToIso(TimeSpan.FromSeconds(port.MaxDurationSeconds)),
        };
    }

    public static JitNetworkAccessRequest ToArm(AccessRequest request, Guid subscription, IReadOnlyDictionary<Guid, Machine> machines) => new()
    {
        Id = ArmIds.JitRequest(subscription, request.Id),
        StartTimeUtc = request.StartTimeUtc,
        Requestor = request.Requestor,
        Justification = request.Justification,
        VirtualMachines = request.Grants
            .OrderBy(g => g.Ordinal)
            .GroupBy(g => g.MachineId)
            .Select(g => new JitNetworkAccessRequestVirtualMachine
            {
                Id = MachineId(subscription, machines, g.Key),
                Ports = g.Select(ToArm).ToList(),
            })
            .ToList(),
    };

    public static JitNetworkAccessRequestPort ToArm(Grant grant)
    {
        var sources = SplitList(grant.Sources);
        return new JitNetworkAccessRequestPort
        {
            Number = grant.Port,
            Protocol = grant.Protocol.ToAzure(),
            AllowedSourceAddressPrefix = sources.Count == 1 ? sources[0] : null,
            AllowedSourceAddressPrefixes = sources.Count > 1 ? sources : null,
            EndTimeUtc = grant.EndTimeUtc,
            Status = grant.Status.ToAzureStatus(),
            StatusReason = grant.Status.ToAzureReason(grant.EndReason),
            State = grant.Status.ToString(),
            EndedBy = grant.EndedBy,
        };
    }

    public static List<string> SplitList(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();

    private static string MachineId(Guid subscription, IReadOnlyDictionary<Guid, Machine> machines, Guid id) =>
        machines.TryGetValue(id, out var m) ? ArmIds.VirtualMachine(subscription, m.ResourceGroup, m.Name) : id.ToString();
}
