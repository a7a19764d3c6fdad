namespace Drawbridge.Server.Storage;

/// <summary>
/// Runs what callers hand in many at once, so that a burst pays for one round of database work instead of one each:
/// writes share one transaction and its durable commit (group commit), reads share one query. A caller that finds no
/// batch running runs its own at once, on its own thread, so a lone caller waits for nothing; callers that arrive
/// while a batch runs wait, and go together into the next one, which runs in the background once that batch is done.
/// Each caller is answered only once its batch is done (for a write: committed, so an acknowledged write is never
/// lost); a caller that has gone before its batch starts is left out. A batch that fails is retried one item at a
/// time, so an item that cannot be done fails only its own caller.
/// </summary>
/// <typeparam name="TItem">One caller's write (checked and ready) or what to read.</typeparam>
/// <typeparam name="TResult">What each caller learns about its item once the batch is done.</typeparam>
internal abstract class Batched<TItem, TResult>(ILogger logger, int maxBatch)
{
    private readonly Queue<Pending> waiting = new();
    private bool running;

    /// <summary>Completes once the batch holding <paramref name="item"/> is done (for a write: committed, or decided not written).</summary>
    protected async Task<TResult> RunBatchedAsync(TItem item, CancellationToken ct)
    {
        var pending = new Pending(item, ct);
        bool first;
        lock (waiting)
        {
            waiting.Enqueue(pending);
            first = !running;
            running = true;
        }

        // The first caller runs the first batch (its own item is in it; none, if it has gone already) on its own
        // thread, and leaves what arrived meanwhile to the background, so that no caller waits for others' batches.
        if (first && NextBatch() is { } batch)
        {
            await RunBatchAsync(batch);
            if (StillWaiting())
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(RunWaitingAsync, CancellationToken.None);
                }
            }
        }

        return await pending.Done.Task.WaitAsync(ct);
    }

    /// <summary>
    /// Does <paramref name="batch"/> at once (a write: in one transaction); returns each item's result, in the batch's
    /// order. Not cancellable: a batch holds many callers' items, and runs to the end even if one of them goes.
    /// </summary>
    protected abstract Task<IReadOnlyList<TResult>> RunTogetherAsync(IReadOnlyList<TItem> batch);

    /// <summary>Runs the waiting items, one batch at a time, until none wait.</summary>
    private async Task RunWaitingAsync()
    {
        while (NextBatch() is { } batch)
        {
            await RunBatchAsync(batch);
        }
    }

    /// <summary>Up to the batch size of waiting items whose callers are still there; null (and running stops) when none wait.</summary>
    private List<Pending>? NextBatch()
    {
        var batch = new List<Pending>();
        lock (waiting)
        {
            while (batch.Count < maxBatch && waiting.TryDequeue(out var next))
            {
                if (next.CallerGone.IsCancellationRequested)
                {
                    next.Done.TrySetCanceled(next.CallerGone);
                    continue;
                }

                batch.Add(next);
            }

            running = batch.Count > 0;
            return running ? batch : null;
        }
    }

    /// <summary>Whether items arrived while a batch ran; if none did, running stops.</summary>
    private bool StillWaiting()
    {
        lock (waiting)
        {
            return running = waiting.Count > 0;
        }
    }

    private async Task RunBatchAsync(List<Pending> batch)
    {
        try
        {
            var results = await RunTogetherAsync(batch.ConvertAll(p => p.Item));
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception e) when (batch.Count > 1)
        {
            BatchedLog.BatchFailed(logger, batch.Count, typeof(TItem).Name, e);
            foreach (var pending in batch)
            {
                await RunBatchAsync([pending]);
            }
        }
        catch (Exception e)
        {
            batch.ForEach(p => p.Done.TrySetException(e));
        }
    }

    private sealed class Pending(TItem item, CancellationToken callerGone)
    {
        public TItem Item { get; } = item;

        public CancellationToken CallerGone { get; } = callerGone;

        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal static partial class BatchedLog
{
    [LoggerMessage(1, LogLevel.Warning, "Running {Count} {Item} items together failed; running each alone")]
    public static partial void BatchFailed(ILogger logger, int count, string item, Exception exception);
}
