using System.Text.RegularExpressions;

namespace Drawbridge.Server.Http;

/// <summary>Azure Resource Manager identifiers and the names inside them.</summary>
internal static partial class ArmIds
{
    public const string VirtualMachineType = "Microsoft.Compute/virtualMachines";
    public const string JitPolicyType = "Microsoft.Security/locations/jitNetworkAccessPolicies";
    public const string NetworkSecurityGroupType = "Microsoft.Network/networkSecurityGroups";

    public static string ResourceGroup(Guid subscription, string resourceGroup) =>
        $"/subscriptions/{subscription}/resourceGroups/{resourceGroup}";

    public static string VirtualMachine(Guid subscription, string resourceGroup, string name) =>
        $"{ResourceGroup(subscription, resourceGroup)}/providers/Microsoft.Compute/virtualMachines/{name}";

    public static string NetworkSecurityGroup(Guid subscription, string resourceGroup, string name) =>
        $"{ResourceGroup(subscription, resourceGroup)}/providers/Microsoft.Network/networkSecurityGroups/{name}";

    public static string JitPolicy(Guid subscription, string resourceGroup, string location, string name) =>
        $"{ResourceGroup(subscription, resourceGroup)}/providers/Microsoft.Security/locations/{location}/jitNetworkAccessPolicies/{name}";

    public static string JitRequest(Guid subscription, Guid requestId) =>
        $"/subscriptions/{subscription}/providers/Microsoft.Security/jitNetworkAccessRequests/{requestId}";

    /// <summary>Parses a virtual machine id; ARM ids are case-insensitive except for the names' case, which is kept.</summary>
    public static bool TryParseVirtualMachine(string? id, out Guid subscription, out string resourceGroup, out string name)
    {
        subscription = default;
        resourceGroup = name = "";
        var match = id is null ? null : VirtualMachineId().Match(id);
        if (match is null || !match.Success || !Guid.TryParse(match.Groups["sub"].Value, out subscription))
        {
            return false;
        }

        resourceGroup = match.Groups["rg"].Value;
        name = match.Groups["name"].Value;
        return true;
    }

    /// <summary>Names of machines, resource groups and policies: letters, digits, '.', '_', '-', starting with a letter or digit.</summary>
    public static bool IsValidName(string? name) => name is not null && ValidName().IsMatch(name);

    public static string Key(string name) => name.ToLowerInvariant();

    [GeneratedRegex(@"^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.Compute/virtualMachines/(?<name>[^/]+)/?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VirtualMachineId();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
