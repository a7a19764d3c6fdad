using System.Globalization;
using Drawbridge.Jit;

namespace Drawbridge.Posture;

public sealed record NetworkSecurityGroup(string Name, IReadOnlyList<NsgRule> Rules);

/// <summary>Inbound traffic from the Internet to a management port that the machine's NSGs let through.</summary>
public sealed record Exposure(int Port, PortProtocol Protocol, string NsgName, NsgRule Rule, AddressSpace Sources)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"NSG {NsgName} rule {Rule.Name} (priority {Rule.Priority}) allows {Port}/{Protocol.ToString().ToLowerInvariant()} from Internet");
}

public enum PostureState
{
    Healthy,
    Unhealthy,
    NotApplicable,
}

/// <summary>
/// What the assessment knows of one machine. <see cref="JitPorts"/> is null when no JIT policy protects it; NSGs are
/// those on its path (subnet and NIC: traffic must pass every one); <see cref="HasEnforcer"/> says whether anything else
/// could enforce access (a Drawbridge agent or a host firewall).
/// </summary>
public sealed record PostureInput(IReadOnlySet<int>? JitPorts, IReadOnlyList<NetworkSecurityGroup> Nsgs, bool HasEnforcer);

public sealed record PostureResult(PostureState State, string Reason, IReadOnlyList<Exposure> Exposures);

/// <summary>
/// Classifies a machine as Defender for Cloud's recommendation "Management ports of virtual machines should be
/// protected with just-in-time network access control" does, and goes one step further: a JIT machine whose NSG still
/// allows a protected port from the Internet is not Healthy, because that rule is evaluated above the JIT deny.
/// </summary>
public static class PostureAssessment
{
    public static readonly int[] ManagementPorts = [22, 3389, 5985, 5986];

    public static PostureResult Assess(PostureInput input)
    {
        var exposures = Exposures(input.Nsgs);
        if (input.JitPorts is { } jit)
        {
            var bypass = exposures.FirstOrDefault(e => jit.Contains(e.Port));
            return bypass is not null
                ? new(PostureState.Unhealthy, $"JIT is bypassed: {bypass.Describe()}, above the JIT deny; remove or narrow that rule", exposures)
                : new(PostureState.Healthy, $"Just-in-time network access control protects port(s) {string.Join(", ", jit.Order())}", exposures);
        }

        if (input.Nsgs.Count == 0)
        {
            return input.HasEnforcer
                ? new(PostureState.Unhealthy, "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy", exposures)
                : new(PostureState.NotApplicable, "No JIT policy, network security group or firewall can enforce access to this machine", exposures);
        }

        return exposures.Count > 0
            ? new(PostureState.Unhealthy, exposures[0].Describe(), exposures)
            : new(PostureState.Healthy, "No rule allows inbound traffic from the Internet to ports 22, 3389, 5985 or 5986", exposures);
    }

    /// <summary>Every management port and transport the NSGs, taken together, let through from the Internet.</summary>
    public static List<Exposure> Exposures(IReadOnlyList<NetworkSecurityGroup> nsgs)
    {
        var exposures = new List<Exposure>();
        if (nsgs.Count == 0)
        {
            return exposures;
        }

        // Each group's inbound rules in evaluation order, once, not once per port and transport.
        var ordered = nsgs.Select(nsg => (nsg.Name, Rules: InEvaluationOrder(nsg.Rules))).ToList();
        foreach (var port in ManagementPorts)
        {
            foreach (var protocol in new[] { PortProtocol.Tcp, PortProtocol.Udp })
            {
                var reachable = AddressSpace.Internet;
                (string Nsg, NsgRule Rule)? first = null;
                foreach (var nsg in ordered)
                {
                    var (allowed, rule) = AllowedFromOrdered(nsg.Rules, reachable, protocol, port);
                    reachable = allowed;
                    if (rule is not null)
                    {
                        first ??= (nsg.Name, rule);
                    }
                }

                if (!reachable.IsEmpty && first is { } origin)
                {
                    exposures.Add(new Exposure(port, protocol, origin.Nsg, origin.Rule, reachable));
                }
            }
        }

        return exposures;
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> one NSG lets through to (protocol, port), first match by priority, with
    /// Azure's default rules last; and the first rule that allowed any of them. An allow shadowed by a
    /// higher-priority deny lets nothing through.
    /// </summary>
    public static (AddressSpace Allowed, NsgRule? FirstAllow) AllowedFrom(IReadOnlyList<NsgRule> rules, AddressSpace candidates, PortProtocol protocol, int port) =>
        AllowedFromOrdered(InEvaluationOrder(rules), candidates, protocol, port);

    /// <summary>Inbound rules by priority, Azure's default rules last.</summary>
    private static NsgRule[] InEvaluationOrder(IReadOnlyList<NsgRule> rules) =>
        [.. rules.Where(r => r.Direction == RuleDirection.Inbound).OrderBy(r => r.Priority), .. NsgRule.DefaultInbound];

    private static (AddressSpace Allowed, NsgRule? FirstAllow) AllowedFromOrdered(NsgRule[] rules, AddressSpace candidates, PortProtocol protocol, int port)
    {
        var undecided = candidates;
        var allowed = AddressSpace.Empty;
        NsgRule? firstAllow = null;
        foreach (var rule in rules)
        {
            if (undecided.IsEmpty)
            {
                break;
            }

            if (!rule.Covers(protocol, port))
            {
                continue;
            }

            var hit = undecided.Intersect(rule.SourceSpace);
            if (hit.IsEmpty)
            {
                continue;
            }

            if (rule.Access == RuleAccess.Allow)
            {
                allowed = allowed.Union(hit);
                firstAllow ??= rule;
            }

            undecided = undecided.Except(hit);
        }

        return (allowed, firstAllow);
    }
}
