using System.Collections.Concurrent;

namespace Drawbridge.Server.Agents;

/// <summary>
/// Wakes the long-polls of one machine when its desired state gets a new version in this process, and remembers the
/// newest version published for each machine (a long per machine that ever changed; a deleted machine's stays, and
/// is never asked for again). Other replicas' changes are picked up by the long-poll's periodic re-read of the version.
/// </summary>
internal sealed class MachineStateNotifier
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long>> _signals = new();
    private readonly ConcurrentDictionary<Guid, long> _published = new();

    /// <summary>
    /// Take the signal before looking at the version, so a change between the two is never missed. It completes with
    /// the version that woke it, so the woken poll need not read it again.
    /// </summary>
    public Task<long> Signal(Guid machineId) =>
        _signals.GetOrAdd(machineId, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The newest version published in this process for the machine; 0 when none was.</summary>
    public long Published(Guid machineId) => _published.GetValueOrDefault(machineId);

    /// <summary>Wakes the machines' polls with the versions just committed (after the commit, never before).</summary>
    public void Publish(IReadOnlyDictionary<Guid, long> versions)
    {
        foreach (var (id, version) in versions)
        {
            // Recorded before the signal is taken away: a poll that takes a new signal after this sees the version.
            _published.AddOrUpdate(id, static (_, version) => version, static (_, newest, version) => Math.Max(newest, version), version);
            if (_signals.TryRemove(id, out var signal))
            {
                signal.TrySetResult(version);
            }
        }
    }
}
