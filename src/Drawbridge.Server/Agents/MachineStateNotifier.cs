using System.Collections.Concurrent;

namespace Drawbridge.Server.Agents;

/// <summary>
/// Wakes the long-polls of one machine when its desired state gets a new version in this process.
/// Other replicas' changes are picked up by the long-poll's periodic re-read of the version.
/// </summary>
internal sealed class MachineStateNotifier
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long?>> _signals = new();

    /// <summary>
    /// Take the signal before reading the version, so a change between the two is never missed. It completes with the
    /// new version when the publisher knew it (an initiate), so the woken poll need not read it again.
    /// </summary>
    public Task<long?> Signal(Guid machineId) =>
        _signals.GetOrAdd(machineId, static _ => new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Publish(Guid machineId, long? version = null)
    {
        if (_signals.TryRemove(machineId, out var signal))
        {
            signal.TrySetResult(version);
        }
    }

    public void Publish(IEnumerable<Guid> machineIds)
    {
        foreach (var id in machineIds)
        {
            Publish(id);
        }
    }

    /// <summary>Wakes the machines' polls with the versions just committed.</summary>
    public void Publish(IReadOnlyDictionary<Guid, long> versions)
    {
        foreach (var (id, version) in versions)
        {
            Publish(id, version);
        }
    }
}
