using Drawbridge.Net;
using Drawbridge.Validation;

namespace Drawbridge.Jit;

/// <summary>What a requester asked for on one port, before any check.</summary>
public sealed record PortAccessAsk(int? Number, string? Duration, DateTimeOffset? EndTimeUtc, string? SourcePrefix, IReadOnlyList<string>? SourcePrefixes);

/// <summary>A port access that passed every check: who may connect, until when.</summary>
public sealed record PortAccessDecision(JitPortRule Rule, IReadOnlyList<IpPrefix> Sources, DateTimeOffset EndTimeUtc);

/// <summary>
/// Decides one port of an initiate request against the machine's policy. Pure and fail-closed:
/// any malformed or out-of-policy part is an error, never a silent widening.
/// </summary>
public static class GrantEvaluator
{
    /// <summary>An explicit end time may overshoot the maximum by this much (clock skew between client and server); the grant is then clamped to the maximum.</summary>
    public static readonly TimeSpan EndTimeTolerance = TimeSpan.FromSeconds(5);

    public static PortAccessDecision? Evaluate(
        IReadOnlyList<JitPortRule> rules, PortAccessAsk ask, IpPrefix observedSource,
        DateTimeOffset now, TimeSpan minimumDuration, string path, ValidationErrors errors)
    {
        var before = errors.Items.Count;
        if (ask.Number is null)
        {
            errors.Add($"{path}.number", "is required");
            return null;
        }

        if (ask.Number is < 1 or > 65535)
        {
            errors.Add($"{path}.number", $"{ask.Number} is not a port number (1..65535)");
            return null;
        }

        var rule = rules.FirstOrDefault(r => r.Number == ask.Number);
        if (rule is null)
        {
            errors.Add($"{path}.number", $"port {ask.Number} is not enabled for just-in-time access on this machine");
            return null;
        }

        var end = EvaluateEnd(rule, ask, now, minimumDuration, path, errors);
        var sources = EvaluateSources(rule, ask, observedSource, path, errors);
        return errors.Items.Count > before || end is null ? null : new PortAccessDecision(rule, sources, end.Value);
    }

    private static DateTimeOffset? EvaluateEnd(JitPortRule rule, PortAccessAsk ask, DateTimeOffset now, TimeSpan minimum, string path, ValidationErrors errors)
    {
        if (ask.Duration is not null && ask.EndTimeUtc is not null)
        {
            errors.Add($"{path}.duration", "give either duration or endTimeUtc, not both");
            return null;
        }

        string field;
        TimeSpan duration;
        if (ask.EndTimeUtc is { } endTime)
        {
            field = $"{path}.endTimeUtc";
            duration = endTime.ToUniversalTime() - now;
            if (duration > rule.MaxRequestAccessDuration && duration <= rule.MaxRequestAccessDuration + EndTimeTolerance)
            {
                duration = rule.MaxRequestAccessDuration;
            }
        }
        else if (ask.Duration is not null)
        {
            field = $"{path}.duration";
            if (!JitDuration.TryParse(ask.Duration, out duration))
            {
                errors.Add(field, $"'{ask.Duration}' is not a duration (ISO 8601 like PT1H, or 1h, 90m)");
                return null;
            }
        }
        else
        {
            // Azure's default when a caller names no time: the port's maximum.
            return now + rule.MaxRequestAccessDuration;
        }

        if (duration <= TimeSpan.Zero)
        {
            errors.Add(field, "the end time has already passed");
            return null;
        }

        if (duration < minimum)
        {
            errors.Add(field, $"{JitDuration.ToIso(duration)} is shorter than the minimum {JitDuration.ToIso(minimum)}");
            return null;
        }

        if (duration > rule.MaxRequestAccessDuration)
        {
            errors.Add(field, $"{JitDuration.ToIso(duration)} is longer than port {rule.Number}'s maximum {JitDuration.ToIso(rule.MaxRequestAccessDuration)}");
            return null;
        }

        return now + duration;
    }

    private static List<IpPrefix> EvaluateSources(JitPortRule rule, PortAccessAsk ask, IpPrefix observed, string path, ValidationErrors errors)
    {
        var sourceErrors = new ValidationErrors();
        var sources = JitPortRule.ParseSources(ask.SourcePrefix, ask.SourcePrefixes, path, sourceErrors, out var anySource);
        foreach (var e in sourceErrors.Items)
        {
            errors.Add(e.Field, e.Message);
        }

        if (sourceErrors.Any)
        {
            return [];
        }

        var field = ask.SourcePrefix is not null ? $"{path}.allowedSourceAddressPrefix" : $"{path}.allowedSourceAddressPrefixes";
        if (anySource && (ask.SourcePrefix is not null || ask.SourcePrefixes is { Count: > 0 }))
        {
            // An explicit "*" asks for the whole Internet: only a policy that allows any source permits it.
            if (!rule.AnySource)
            {
                errors.Add(field, $"'*' is not allowed: port {rule.Number} only allows {string.Join(", ", rule.AllowedSources)}");
                return [];
            }

            return [IpPrefix.AnyIPv4, IpPrefix.AnyIPv6];
        }

        if (sources.Count == 0)
        {
            // No source given: the caller's own observed address.
            sources.Add(observed);
            field = $"{path}.allowedSourceAddressPrefix";
        }

        foreach (var source in sources.Where(s => !rule.Allows(s)))
        {
            errors.Add(field, $"{source} is outside port {rule.Number}'s allowed sources ({string.Join(", ", rule.AllowedSources)})");
        }

        return sources;
    }
}
