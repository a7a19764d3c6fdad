using System.Diagnostics.CodeAnalysis;

namespace Drawbridge.Authorization;

/// <summary>
/// Where a role assignment applies: a subscription, a resource group in it, or one virtual machine. Scopes nest,
/// and an assignment applies to its scope and everything below. Compared by a lower-case key, as ARM compares ids.
/// </summary>
public sealed class AccessScope : IEquatable<AccessScope>
{
    private const string MachineSegment = "/providers/microsoft.compute/virtualmachines/";

    private AccessScope(string key, ScopeLevel level, string? resourceGroupKey = null, string? machineKey = null)
    {
        Key = key;
        Level = level;
        ResourceGroupKey = resourceGroupKey;
        MachineKey = machineKey;
    }

    /// <summary>The normalized id: lower case, no trailing slash.</summary>
    public string Key { get; }

    public ScopeLevel Level { get; }

    /// <summary>The resource group's lower-case name, below subscription level.</summary>
    public string? ResourceGroupKey { get; }

    /// <summary>The machine's lower-case name, at machine level.</summary>
    public string? MachineKey { get; }

    public static AccessScope Subscription(Guid subscription) => new($"/subscriptions/{subscription:D}", ScopeLevel.Subscription);

    public static AccessScope ResourceGroup(Guid subscription, string resourceGroup)
    {
        var rg = resourceGroup.ToLowerInvariant();
        return new($"/subscriptions/{subscription:D}/resourcegroups/{rg}", ScopeLevel.ResourceGroup, rg);
    }

    public static AccessScope VirtualMachine(Guid subscription, string resourceGroup, string name)
    {
        var group = ResourceGroup(subscription, resourceGroup);
        var vm = name.ToLowerInvariant();
        return new($"{group.Key}{MachineSegment}{vm}", ScopeLevel.VirtualMachine, group.ResourceGroupKey, vm);
    }

    /// <summary>Parses the three scope shapes; anything else (other resource types, "..", empty names) is refused.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out AccessScope? scope)
    {
        scope = null;
        if (string.IsNullOrEmpty(text) || text.Length > 512)
        {
            return false;
        }

        var parts = text.TrimEnd('/').Split('/');
        if (parts.Length < 3 || parts[0].Length != 0 || !parts[1].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            || !Guid.TryParseExact(parts[2], "D", out var subscription))
        {
            return false;
        }

        scope = parts.Length switch
        {
            3 => Subscription(subscription),
            5 when IsResourceGroups(parts[3]) && IsName(parts[4]) => ResourceGroup(subscription, parts[4]),
            9 when IsResourceGroups(parts[3]) && IsName(parts[4])
                && parts[5].Equals("providers", StringComparison.OrdinalIgnoreCase)
                && parts[6].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase)
                && parts[7].Equals("virtualMachines", StringComparison.OrdinalIgnoreCase)
                && IsName(parts[8]) => VirtualMachine(subscription, parts[4], parts[8]),
            _ => null,
        };
        return scope is not null;
    }

    /// <summary>True when this scope is <paramref name="other"/> or one of its ancestors.</summary>
    public bool Contains(AccessScope other) =>
        other.Key.Length == Key.Length ? other.Key == Key : other.Key.Length > Key.Length && other.Key.StartsWith(Key, StringComparison.Ordinal) && other.Key[Key.Length] == '/';

    public bool Equals(AccessScope? other) => other is not null && other.Key == Key;

    public override bool Equals(object? obj) => Equals(obj as AccessScope);

    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Key;

    private static bool IsResourceGroups(string segment) => segment.Equals("resourceGroups", StringComparison.OrdinalIgnoreCase);

    // The same rule as machine, group and policy names everywhere else.
    private static bool IsName(string segment) =>
        segment.Length is > 0 and <= 80 && char.IsAsciiLetterOrDigit(segment[0]) && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}

public enum ScopeLevel
{
    Subscription,
    ResourceGroup,
    VirtualMachine,
}
