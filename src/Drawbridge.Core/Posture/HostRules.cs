using Drawbridge.Contracts;
using Drawbridge.Jit;

namespace Drawbridge.Posture;

/// <summary>
/// A group's inbound rules as an agent enforces them: evaluation order with the defaults last, service tags expanded
/// into disjoint CIDR prefixes (none: any source), ports merged into disjoint ranges (none: any port).
/// </summary>
public static class HostRules
{
    public static DesiredSecurityGroup Resolve(NetworkSecurityGroup nsg) => new()
    {
        Name = nsg.Name,
        Rules = PostureAssessment.InEvaluationOrder(nsg).Select(rule => new DesiredSecurityRule
        {
            Name = rule.Name,
            Priority = rule.Priority,
            Access = rule.Access == RuleAccess.Allow ? "allow" : "deny",
            Protocol = rule.Protocol switch { PortProtocol.Tcp => "tcp", PortProtocol.Udp => "udp", _ => "*" },
            Sources = rule.SourceSpace.IsAll ? [] : rule.SourceSpace.Prefixes.Select(p => p.ToString()).ToList(),
            Ports = PortRange.Merge(rule.DestinationPorts) is var ports && ports is [{ From: 0, To: 65535 }] ? [] : ports.Select(r => r.ToString()).ToList(),
        }).ToList(),
    };
}
