using System.Collections.Concurrent;

namespace Drawbridge.Server.Storage;

/// <summary>
/// A fixed number of slots, each held by a named holder (EF Core's id of a connection or command). Several events can
/// end one hold (commit, then close, then dispose); the slot goes back on the first of them and never twice.
/// </summary>
internal sealed class HeldSlots(int count, string what) : IDisposable
{
    /// <summary>Longer than anything holds a slot; past it one has leaked, which must fail a request, not hang the API.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim slots = new(count, count);
    private readonly ConcurrentDictionary<Guid, bool> holders = new();

    public async Task TakeAsync(Guid holder, CancellationToken ct)
    {
        if (!holders.ContainsKey(holder))
        {
            Taken(holder, await slots.WaitAsync(Patience, ct));
        }
    }

    public void Take(Guid holder)
    {
        if (!holders.ContainsKey(holder))
        {
            Taken(holder, slots.Wait(Patience));
        }
    }

    public void GiveBack(Guid holder)
    {
        if (holders.TryRemove(holder, out _))
        {
            slots.Release();
        }
    }

    public void Dispose() => slots.Dispose();

    private void Taken(Guid holder, bool taken)
    {
        if (!taken)
        {
            throw new TimeoutException($"No {what} free within {Patience.TotalSeconds} s");
        }

        holders[holder] = true;
    }
}
