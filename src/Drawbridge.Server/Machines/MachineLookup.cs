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

    /// <summary>
    /// The machines a list of virtual machine ids names, in one query: a group may list a thousand, and one query each
    /// was a thousand round trips per group change. Keyed by the id as given; an id that is malformed, of another
    /// subscription or of no machine has no entry.
    /// </summary>
    public static async Task<Dictionary<string, Machine>> FindByIdsAsync(this DrawbridgeDbContext db, InstallationContext installation, IEnumerable<string?> ids, CancellationToken ct)
    {
        var keys = new Dictionary<string, (string ResourceGroup, string NameKey)>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (id is not null && ArmIds.TryParseVirtualMachine(id, out var subscription, out var resourceGroup, out var name) && subscription == installation.SubscriptionId)
            {
                keys[id] = (ArmIds.Key(resourceGroup), ArmIds.Key(name));
            }
        }

        if (keys.Count == 0)
        {
            return [];
        }

        var groups = keys.Values.Select(k => k.ResourceGroup).Distinct().ToList();
        var names = keys.Values.Select(k => k.NameKey).Distinct().ToList();
        var machines = await db.Machines.AsNoTracking()
            .Where(m => groups.Contains(m.ResourceGroup) && names.Contains(m.NameKey))
            .ToDictionaryAsync(m => (m.ResourceGroup, m.NameKey), ct);
        return keys.Where(k => machines.ContainsKey(k.Value)).ToDictionary(k => k.Key, k => machines[k.Value], StringComparer.Ordinal);
    }
}
