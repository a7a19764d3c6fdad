using System.Globalization;
using Drawbridge.Jit;

namespace Drawbridge.Posture;

/// <summary>How a group's rules combine, with each other and with the other groups of the same machine.</summary>
public enum NsgKind
{
    /// <summary>Azure: first match by priority, Azure's default rules last; a machine's groups (subnet, then NIC) must each allow.</summary>
    Azure,

    /// <summary>AWS: allow rules only, anything else refused; a machine's groups are alternatives (any one allowing is enough).</summary>
    AwsSecurityGroup,
}

public sealed record NetworkSecurityGroup(string Name, IReadOnlyList<NsgRule> Rules, NsgKind Kind = NsgKind.Azure);

/// <summary>Inbound traffic from the Internet to a management port that the machine's NSGs let through.</summary>
public sealed record Exposure(int Port, PortProtocol Protocol, NetworkSecurityGroup Nsg, NsgRule Rule, AddressSpace Sources)
{
    public string Describe() => Nsg.Kind == NsgKind.AwsSecurityGroup
        ? string.Create(CultureInfo.InvariantCulture, $"security group {Nsg.Name} rule {Rule.Name} allows {Port}/{Transport} from Internet")
        : string.Create(CultureInfo.InvariantCulture, $"NSG {Nsg.Name} rule {Rule.Name} (priority {Rule.Priority}) allows {Port}/{Transport} from Internet");

    private string Transport => Protocol.ToString().ToLowerInvariant();
}

/// <summary>
/// What the machine's agent saw on the host: which management ports something listens on, and which other nftables
/// base chains on the input hook can drop traffic (as "table ip filter chain INPUT at priority 0 (policy drop)").
/// </summary>
public sealed record HostFacts(IReadOnlySet<int> ListeningPorts, IReadOnlyList<string> OtherInputFilters);

public enum PostureState
{
    Healthy,
    Unhealthy,
    NotApplicable,
}

/// <summary>
/// What the assessment knows of one machine. <see cref="JitPorts"/> is null when no JIT policy protects it; NSGs are
/// those on its path (see <see cref="NsgKind"/> for how they combine); <see cref="HasEnforcer"/> says whether anything
/// else could enforce access (a Drawbridge agent). <see cref="Host"/> is what its agent last reported, if any;
/// <see cref="JitUnavailable"/> says why JIT cannot be enabled on it (an imported machine without an agent).
/// </summary>
public sealed record PostureInput(
    IReadOnlySet<int>? JitPorts, IReadOnlyList<NetworkSecurityGroup> Nsgs, bool HasEnforcer, HostFacts? Host = null, string? JitUnavailable = null);

public sealed record PostureResult(PostureState State, string Reason, IReadOnlyList<Exposure> Exposures);

/// <summary>The sources that reach one port of a machine (JIT grants aside), and the first rule that allowed any of them.</summary>
public sealed record EffectiveAccess(int Port, PortProtocol Protocol, AddressSpace Allowed, NetworkSecurityGroup? Nsg, NsgRule? Rule, bool JitProtected);

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
        var (state, reason) = Classify(input, exposures);
        return new PostureResult(state, reason + HostNotes(input, state), exposures);
    }

    private static (PostureState, string) Classify(PostureInput input, List<Exposure> exposures)
    {
        if (input.JitPorts is { } jit)
        {
            var bypass = exposures.FirstOrDefault(e => jit.Contains(e.Port));
            return bypass is not null
                ? (PostureState.Unhealthy, $"JIT is bypassed: {bypass.Describe()}, above the JIT deny; remove or narrow that rule")
                : (PostureState.Healthy, $"Just-in-time network access control protects port(s) {string.Join(", ", jit.Order())}");
        }

        if (input.Nsgs.Count == 0)
        {
            return input.HasEnforcer
                ? (PostureState.Unhealthy, "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy")
                : (PostureState.NotApplicable, input.JitUnavailable ?? "No JIT policy, network security group or firewall can enforce access to this machine");
        }

        if (exposures.Count == 0)
        {
            return (PostureState.Healthy, "No rule allows inbound traffic from the Internet to ports 22, 3389, 5985 or 5986");
        }

        var reason = exposures[0].Describe();
        return (PostureState.Unhealthy, input.JitUnavailable is { } why ? $"{reason}; narrow or remove that rule ({why})" : reason);
    }

    /// <summary>What the agent saw that changes how much the verdict means: listeners, and other tables that drop first.</summary>
    private static string HostNotes(PostureInput input, PostureState state)
    {
        if (input.Host is not { } host || state == PostureState.NotApplicable)
        {
            return "";
        }

        var notes = new List<string>();
        if (state == PostureState.Unhealthy)
        {
            var listening = ManagementPorts.Where(host.ListeningPorts.Contains).ToList();
            notes.Add(listening.Count > 0
                ? $"the host listens on {string.Join(", ", listening)}"
                : "nothing listens on a management port on the host right now");
        }

        if (host.OtherInputFilters.Count > 0)
        {
            notes.Add($"another nftables table also filters input and may drop traffic: {string.Join("; ", host.OtherInputFilters)}");
        }

        return notes.Count == 0 ? "" : $" ({string.Join("; ", notes)})";
    }

    /// <summary>
    /// Every management port and transport the NSGs, taken together, let through from the Internet. Azure groups are
    /// layers that traffic passes in turn; a machine's AWS security groups form one layer in which any group may allow.
    /// </summary>
    public static List<Exposure> Exposures(IReadOnlyList<NetworkSecurityGroup> nsgs)
    {
        var exposures = new List<Exposure>();
        if (nsgs.Count == 0)
        {
            return exposures;
        }

        var layers = Layers(nsgs);
        foreach (var port in ManagementPorts)
        {
            foreach (var protocol in new[] { PortProtocol.Tcp, PortProtocol.Udp })
            {
                var (reachable, origin) = Pass(layers, AddressSpace.Internet, protocol, port, jitDeny: false);
                if (!reachable.IsEmpty && origin is { } first)
                {
                    exposures.Add(new Exposure(port, protocol, first.Nsg, first.Rule, reachable));
                }
            }
        }

        return exposures;
    }

    /// <summary>
    /// Which sources reach (protocol, port) on the machine after every rule, as its agent enforces them: in each group
    /// the JIT deny of a protected port sits below the group's own rules and above its defaults; without a group, a
    /// protected port is closed and any other port open. JIT grants come on top of this and are not included.
    /// </summary>
    public static EffectiveAccess Effective(PostureInput input, PortProtocol protocol, int port)
    {
        var jit = input.JitPorts?.Contains(port) == true;
        if (input.Nsgs.Count == 0)
        {
            return new EffectiveAccess(port, protocol, jit ? AddressSpace.Empty : AddressSpace.All, null, null, jit);
        }

        var (allowed, origin) = Pass(Layers(input.Nsgs), AddressSpace.All, protocol, port, jitDeny: jit);
        return new EffectiveAccess(port, protocol, allowed, origin?.Nsg, origin?.Rule, jit);
    }

    /// <summary>A group's inbound rules in evaluation order; the first <see cref="OwnCount"/> are its own, the rest its defaults.</summary>
    private sealed record Evaluated(NetworkSecurityGroup Nsg, NsgRule[] Rules, int OwnCount);

    /// <summary>
    /// Each group's inbound rules in evaluation order, computed once, grouped into the layers traffic passes in turn:
    /// one per Azure group, in order, and one for all AWS groups together.
    /// </summary>
    private static List<List<Evaluated>> Layers(IReadOnlyList<NetworkSecurityGroup> nsgs)
    {
        var layers = new List<List<Evaluated>>(nsgs.Count);
        List<Evaluated>? aws = null;
        foreach (var nsg in nsgs)
        {
            var rules = InEvaluationOrder(nsg);
            var evaluated = new Evaluated(nsg, rules, nsg.Kind == NsgKind.Azure ? rules.Length - NsgRule.DefaultInbound.Count : rules.Length);
            if (nsg.Kind == NsgKind.AwsSecurityGroup)
            {
                if (aws is null)
                {
                    layers.Add(aws = []);
                }

                aws.Add(evaluated);
            }
            else
            {
                layers.Add([evaluated]);
            }
        }

        return layers;
    }

    /// <summary>What of <paramref name="candidates"/> passes every layer, and the first rule that allowed any of it.</summary>
    private static (AddressSpace Passed, (NetworkSecurityGroup Nsg, NsgRule Rule)? First) Pass(
        List<List<Evaluated>> layers, AddressSpace candidates, PortProtocol protocol, int port, bool jitDeny)
    {
        var reachable = candidates;
        (NetworkSecurityGroup Nsg, NsgRule Rule)? first = null;
        foreach (var layer in layers)
        {
            var passed = AddressSpace.Empty;
            foreach (var group in layer)
            {
                // The JIT deny drops whatever the group's own rules did not decide, before its defaults are reached.
                var (allowed, rule) = AllowedFromOrdered(group.Rules.AsSpan(0, jitDeny ? group.OwnCount : group.Rules.Length), reachable, protocol, port);
                passed = passed.IsEmpty ? allowed : passed.Union(allowed);
                if (rule is not null)
                {
                    first ??= (group.Nsg, rule);
                }
            }

            reachable = passed;
        }

        return (reachable, first);
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> one NSG lets through to (protocol, port), first match by priority, with
    /// Azure's default rules last; and the first rule that allowed any of them. An allow shadowed by a
    /// higher-priority deny lets nothing through.
    /// </summary>
    public static (AddressSpace Allowed, NsgRule? FirstAllow) AllowedFrom(NetworkSecurityGroup nsg, AddressSpace candidates, PortProtocol protocol, int port) =>
        AllowedFromOrdered(InEvaluationOrder(nsg), candidates, protocol, port);

    /// <summary>Inbound rules by priority; Azure's default rules last, or nothing for AWS (whatever no rule allows is refused).</summary>
    public static NsgRule[] InEvaluationOrder(NetworkSecurityGroup nsg) =>
        [.. nsg.Rules.Where(r => r.Direction == RuleDirection.Inbound).OrderBy(r => r.Priority),
         .. nsg.Kind == NsgKind.Azure ? NsgRule.DefaultInbound : []];

    private static (AddressSpace Allowed, NsgRule? FirstAllow) AllowedFromOrdered(ReadOnlySpan<NsgRule> rules, AddressSpace candidates, PortProtocol protocol, int port)
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
