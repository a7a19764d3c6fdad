using Drawbridge.Net;
using Drawbridge.Validation;

namespace Drawbridge.Jit;

/// <summary>
/// One port of a JIT policy: which sources may ask for it and for how long.
/// <see cref="AllowedSources"/> empty means "any source, chosen per request" (Azure's "*").
/// </summary>
public sealed record JitPortRule(int Number, PortProtocol Protocol, IReadOnlyList<IpPrefix> AllowedSources, TimeSpan MaxRequestAccessDuration)
{
    public const int MaxPrefixesPerPort = 64;

    public bool AnySource => AllowedSources.Count == 0;

    /// <summary>
    /// Validates the raw fields of a policy port. <paramref name="prefix"/> and <paramref name="prefixes"/>
    /// are Azure's two spellings; exactly one of them is expected (both empty means any source).
    /// </summary>
    public static JitPortRule? TryCreate(
        int? number, string? protocol, string? prefix, IReadOnlyList<string>? prefixes, string? maxDuration,
        TimeSpan minimumDuration, string path, ValidationErrors errors)
    {
        var before = errors.Items.Count;
        if (number is null)
        {
            errors.Add($"{path}.number", "is required");
        }
        else if (number is < 1 or > 65535)
        {
            errors.Add($"{path}.number", $"{number} is not a port number (1..65535)");
        }

        var parsedProtocol = PortProtocol.Any;
        if (protocol is not null && !PortProtocols.TryParse(protocol, out parsedProtocol))
        {
            errors.Add($"{path}.protocol", $"'{protocol}' is not a protocol (TCP, UDP or *)");
        }

        var maximum = JitDuration.DefaultMaximum;
        if (maxDuration is not null)
        {
            if (!JitDuration.TryParse(maxDuration, out maximum))
            {
                errors.Add($"{path}.maxRequestAccessDuration", $"'{maxDuration}' is not a duration (ISO 8601 like PT3H, or 3h)");
            }
            else if (maximum < minimumDuration || maximum > JitDuration.PolicyCeiling)
            {
                errors.Add($"{path}.maxRequestAccessDuration",
                    $"{JitDuration.ToIso(maximum)} is outside {JitDuration.ToIso(minimumDuration)}..{JitDuration.ToIso(JitDuration.PolicyCeiling)}");
            }
        }

        var sources = ParseSources(prefix, prefixes, path, errors, out var anySource);
        if (errors.Items.Count > before)
        {
            return null;
        }

        return new JitPortRule(number!.Value, parsedProtocol, anySource ? [] : sources, maximum);
    }

    /// <summary>Parses "*", a single prefix, or a list; duplicates are kept out and "*" must stand alone.</summary>
    public static List<IpPrefix> ParseSources(string? prefix, IReadOnlyList<string>? prefixes, string path, ValidationErrors errors, out bool anySource)
    {
        anySource = false;
        var result = new List<IpPrefix>();
        if (prefix is not null && prefixes is { Count: > 0 })
        {
            errors.Add($"{path}.allowedSourceAddressPrefixes", "give either allowedSourceAddressPrefix or allowedSourceAddressPrefixes, not both");
            return result;
        }

        if (prefixes is { Count: > MaxPrefixesPerPort })
        {
            errors.Add($"{path}.allowedSourceAddressPrefixes", $"at most {MaxPrefixesPerPort} prefixes are allowed");
            return result;
        }

        var (field, items) = prefix is not null
            ? ($"{path}.allowedSourceAddressPrefix", (IReadOnlyList<string>)[prefix])
            : ($"{path}.allowedSourceAddressPrefixes", prefixes ?? []);

        if (items.Count == 0 || (items.Count == 1 && items[0]?.Trim() is "*" or "Any" or "Internet"))
        {
            anySource = true;
            return result;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var itemField = prefix is not null ? field : $"{field}[{i}]";
            if (items[i]?.Trim() == "*")
            {
                errors.Add(itemField, "'*' cannot be combined with other prefixes");
            }
            else if (!IpPrefix.TryParse(items[i], out var parsed, out var error))
            {
                errors.Add(itemField, error);
            }
            else if (!result.Contains(parsed.Value))
            {
                result.Add(parsed.Value);
            }
        }

        return result;
    }

    /// <summary>True when every address of <paramref name="source"/> is inside what this rule allows.</summary>
    public bool Allows(IpPrefix source) => AnySource || AllowedSources.Any(allowed => allowed.Contains(source));
}
