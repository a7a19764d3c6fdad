using Drawbridge.Validation;

namespace Drawbridge.Server.Identity;

/// <summary>Names of people and services that hold tokens and roles: case-insensitive, stored in lower case.</summary>
internal static class Principals
{
    public const int MaxLength = 128;

    /// <summary>Names Drawbridge writes itself into the audit log; nobody may be called that.</summary>
    private static readonly string[] Reserved = ["system", "anonymous", "bootstrap", "migration"];

    public static string? Normalize(string? name, string field, ValidationErrors errors)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || trimmed.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            || trimmed.StartsWith("agent:", StringComparison.OrdinalIgnoreCase) || Reserved.Contains(trimmed, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add(field, $"a name of 1..{MaxLength} printable characters without spaces is required (not {string.Join(", ", Reserved)} or agent:...)");
            return null;
        }

        return trimmed.ToLowerInvariant();
    }
}
