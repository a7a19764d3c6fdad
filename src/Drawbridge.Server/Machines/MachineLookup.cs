using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Machines;

internal static class MachineLookup
{
    // Compiled once: every initiate looks its machines up (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, string, CancellationToken, Task<Machine?>>> ByKey =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string rgKey, string key, CancellationToken ct) =>
            db.Machines.AsNoTracking().SingleOrDefault(m => m.ResourceGroup == rgKey && m.NameKey == key)));

    /// <summary>The machine a virtual machine id names in this installation; null for a malformed id, another subscription or no such machine.</summary>
    public static async Task<Machine?> FindByIdAsync(this DrawbridgeDbContext db, InstallationContext installation, string? id, CancellationToken ct)
    {
        if (!ArmIds.TryParseVirtualMachine(id, out var subscription, out var resourceGroup, out var name) || subscription != installation.SubscriptionId)
        {
            return null;
        }

        return await ByKey.For(db)(db, ArmIds.Key(resourceGroup), ArmIds.Key(name), ct);
    }
}
