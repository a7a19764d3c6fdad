namespace Drawbridge.Server.Storage;

/// <summary>
/// Writes what callers hand in many to one transaction, so that a burst pays for one durable commit instead of one
/// each (group commit). A caller that finds no batch being written writes its own at once, on its own thread, so a
/// lone write waits for nothing; callers that arrive while a batch is written wait, and go together into the next
/// one, which is written in the background once that batch is done. Each caller is answered only once its item has
/// committed, so an acknowledged write is never lost; a caller that has gone before its batch starts is not written
/// for. A batch that fails is retried one item at a time, so an item that cannot be written fails only its own caller.
/// </summary>
/// <typeparam name="TItem">One caller's write, checked and ready.</typeparam>
/// <typeparam name="TResult">What each caller learns about its item once the batch has committed.</typeparam>
internal abstract class BatchWriter<TItem, TResult>(ILogger logger, int maxBatch)
{
    private readonly Queue<Pending> waiting = new();
    private bool writing;

    /// <summary>Completes once <paramref name="item"/> is committed (or its batch has decided it is not written).</summary>
    public async Task<TResult> WriteAsync(TItem item, CancellationToken ct)
    {
        var pending = new Pending(item, ct);
        bool first;
        lock (waiting)
        {
            waiting.Enqueue(pending);
            first = !writing;
            writing = true;
        }

        // The first caller writes the first batch (its own item is in it; none, if it has gone already) on its own
        // thread, and leaves what arrived meanwhile to the background, so that no caller waits for others' batches.
        if (first && NextBatch() is { } batch)
        {
            await WriteBatchAsync(batch);
            if (StillWaiting())
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(WriteWaitingAsync, CancellationToken.None);
                }
            }
        }

        return await pending.Written.Task.WaitAsync(ct);
    }

    /// <summary>
    /// Writes <paramref name="batch"/> in one transaction; returns each item's result, in the batch's order. Not
    /// cancellable: a batch holds many callers' items, and is written to the end even if one of them goes.
    /// </summary>
    protected abstract Task<IReadOnlyList<TResult>> WriteTogetherAsync(IReadOnlyList<TItem> batch);

    /// <summary>Writes the waiting items, one batch at a time, until none wait.</summary>
    private async Task WriteWaitingAsync()
    {
        while (NextBatch() is { } batch)
        {
            await WriteBatchAsync(batch);
        }
    }

    /// <summary>Up to the batch size of waiting items whose callers are still there; null (and writing stops) when none wait.</summary>
    private List<Pending>? NextBatch()
    {
        var batch = new List<Pending>();
        lock (waiting)
        {
            while (batch.Count < maxBatch && waiting.TryDequeue(out var next))
            {
                if (next.CallerGone.IsCancellationRequested)
                {
                    next.Written.TrySetCanceled(next.CallerGone);
                    continue;
                }

                batch.Add(next);
            }

            writing = batch.Count > 0;
            return writing ? batch : null;
        }
    }

    /// <summary>Whether items arrived while a batch was written; if none did, writing stops.</summary>
    private bool StillWaiting()
    {
        lock (waiting)
        {
            return writing = waiting.Count > 0;
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        try
        {
            var results = await WriteTogetherAsync(batch.ConvertAll(p => p.Item));
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Written.TrySetResult(results[i]);
            }
        }
        catch (Exception e) when (batch.Count > 1)
        {
            BatchWriterLog.BatchFailed(logger, batch.Count, typeof(TItem).Name, e);
            foreach (var pending in batch)
            {
                await WriteBatchAsync([pending]);
            }
        }
        catch (Exception e)
        {
            batch.ForEach(p => p.Written.TrySetException(e));
        }
    }

    private sealed class Pending(TItem item, CancellationToken callerGone)
    {
        public TItem Item { get; } = item;

        public CancellationToken CallerGone { get; } = callerGone;

        public TaskCompletionSource<TResult> Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal static partial class BatchWriterLog
{
    [LoggerMessage(1, LogLevel.Warning, "Writing {Count} {Item} items together failed; writing each alone")]
    public static partial void BatchFailed(ILogger logger, int count, string item, Exception exception);
}
