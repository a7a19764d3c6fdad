using Drawbridge.Server.Storage;

namespace Drawbridge.Server.Agents;

internal static class MachineVersions
{
    /// <summary>
    /// Gives a machine's desired state a new version and returns it. Must run inside the transaction of the change:
    /// the UPDATE holds the row lock (PostgreSQL) or the write lock (SQLite) until commit. One statement on both
    /// providers (UPDATE ... RETURNING), on the path of every initiate.
    /// </summary>
    public static async Task<long> BumpAsync(this DrawbridgeDbContext db, Guid machineId, CancellationToken ct) =>
        (await db.BumpAllAsync([machineId], ct)).TryGetValue(machineId, out var version)
            ? version
            : throw new InvalidOperationException($"machine {machineId} does not exist");

    /// <summary>
    /// Gives each of <paramref name="machineIds"/> a new state version in one statement (a group or policy change can
    /// touch a thousand machines) and returns them, for <see cref="MachineStateNotifier.Publish"/>. Must run inside
    /// the transaction of the change, as <see cref="BumpAsync"/>.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Guid, long>> BumpAllAsync(this DrawbridgeDbContext db, IReadOnlyCollection<Guid> machineIds, CancellationToken ct)
    {
        var versions = new Dictionary<Guid, long>(machineIds.Count);
        if (machineIds.Count == 0)
        {
            return versions;
        }

        // The ids as literals (DirectStatements.InList): a group change bumps up to a thousand machines.
        await using var command = DirectStatements.Command(db);
        command.CommandText = $"""
            UPDATE "Machines" SET "StateVersion" = "StateVersion" + 1 WHERE "Id" IN ({db.InList<Machine, Guid>(nameof(Machine.Id), machineIds)})
            RETURNING "Id", "StateVersion"
            """;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            versions[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        return versions;
    }
}
