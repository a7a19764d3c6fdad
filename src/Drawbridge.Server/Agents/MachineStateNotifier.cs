using System.Collections.Concurrent;

namespace Drawbridge.Server.Agents;

/// <summary>
/// Wakes the long-polls of one machine when its desired state gets a new version in this process.
/// Other replicas' changes are picked up by the long-poll's periodic re-read of the version.
/// </summary>
internal sealed class MachineStateNotifier
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _signals = new();

    /// <summary>Take the signal before reading the version, so a change between the two is never missed.</summary>
    public Task Signal(Guid machineId) =>
        _signals.GetOrAdd(machineId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Publish(Guid machineId)
    {
        if (_signals.TryRemove(machineId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    public void Publish(IEnumerable<Guid> machineIds)
    {
        foreach (var id in machineIds)
        {
            Publish(id);
        }
    }
}
