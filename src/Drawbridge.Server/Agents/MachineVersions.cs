using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Agents;

internal static class MachineVersions
{
    // Compiled once: every initiate and agent report bumps or reads a version (see BearerAuthenticationHandler).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, CancellationToken, Task<long>>> VersionOf =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid machineId, CancellationToken ct) =>
            db.Machines.Where(m => m.Id == machineId).Select(m => m.StateVersion).Single()));

    /// <summary>
    /// Gives a machine's desired state a new version and returns it. Must run inside the transaction of the change:
    /// the UPDATE holds the row lock (PostgreSQL) or the write lock (SQLite) until commit, so the read-back is ours.
    /// </summary>
    public static async Task<long> BumpAsync(this DrawbridgeDbContext db, Guid machineId, CancellationToken ct)
    {
        await db.Machines.Where(m => m.Id == machineId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.StateVersion, m => m.StateVersion + 1), ct);
        return await VersionOf.For(db)(db, machineId, ct);
    }

    /// <summary>
    /// Gives each of <paramref name="machineIds"/> a new state version in one statement (a group or policy change can
    /// touch a thousand machines). Must run inside the transaction of the change, as <see cref="BumpAsync"/>.
    /// </summary>
    public static async Task BumpAllAsync(this DrawbridgeDbContext db, IReadOnlyCollection<Guid> machineIds, CancellationToken ct)
    {
        if (machineIds.Count > 0)
        {
            await db.Machines.Where(m => machineIds.Contains(m.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.StateVersion, m => m.StateVersion + 1), ct);
        }
    }
}
