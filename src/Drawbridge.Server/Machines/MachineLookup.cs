using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Machines;

internal static class MachineLookup
{
    /// <summary>The machine a virtual machine id names in this installation; null for a malformed id, another subscription or no such machine.</summary>
    public static async Task<Machine?> FindByIdAsync(this DrawbridgeDbContext db, InstallationContext installation, string? id, CancellationToken ct)
    {
        if (!ArmIds.TryParseVirtualMachine(id, out var subscription, out var resourceGroup, out var name) || subscription != installation.SubscriptionId)
        {
            return null;
        }

        var (rgKey, key) = (ArmIds.Key(resourceGroup), ArmIds.Key(name));
        return await db.Machines.AsNoTracking().SingleOrDefaultAsync(m => m.ResourceGroup == rgKey && m.NameKey == key, ct);
    }
}
