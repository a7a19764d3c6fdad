using System.Collections.Concurrent;
using Drawbridge.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drawbridge.Server.Tests;

/// <summary>
/// The batching mechanics of <see cref="Batched{TItem, TResult}"/>, with a writer that records its batches instead of a
/// database (the initiate and report writers, the agents' credential lookups and desired states are tested on real
/// databases in JitApiTests and NetworkSecurityGroupTests).
/// </summary>
public sealed class BatchedTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CallersArrivingDuringABatch_GoTogetherIntoTheNext_UpToTheBatchSize()
    {
        var writer = new RecordingWriter();
        var first = writer.WriteAsync(0, Ct);
        await writer.FirstStarted.Task.WaitAsync(Ct);
        var others = Enumerable.Range(1, 6).Select(i => writer.WriteAsync(i, Ct)).ToList();
        writer.FirstMayFinish.SetResult();

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"written {i}"), await Task.WhenAll([first, .. others]));
        Assert.Equal([[0], [1, 2, 3, 4], [5, 6]], writer.Batches);
    }

    [Fact]
    public async Task ALoneCaller_WritesItsOwnBatch_AndIsAnsweredOnceItCommitted()
    {
        var writer = new RecordingWriter { HoldFirst = false };
        Assert.Equal("written 7", await writer.WriteAsync(7, Ct));
        Assert.Equal("written 8", await writer.WriteAsync(8, Ct));
        Assert.Equal([[7], [8]], writer.Batches);
    }

    [Fact]
    public async Task AFailingItem_FailsOnlyItsOwnCaller()
    {
        var writer = new RecordingWriter { Failing = 2 };
        var first = writer.WriteAsync(0, Ct);
        await writer.FirstStarted.Task.WaitAsync(Ct);
        var others = Enumerable.Range(1, 3).Select(i => writer.WriteAsync(i, Ct)).ToList();
        writer.FirstMayFinish.SetResult();

        Assert.Equal("written 0", await first);
        Assert.Equal("written 1", await others[0]);
        Assert.Equal("cannot write 2", (await Assert.ThrowsAsync<InvalidOperationException>(() => others[1])).Message);
        Assert.Equal("written 3", await others[2]);
        Assert.Equal([[0], [1, 2, 3], [1], [2], [3]], writer.Batches);
    }

    [Fact]
    public async Task ACallerGoneBeforeItsBatchStarts_IsNotWritten()
    {
        var writer = new RecordingWriter();
        var first = writer.WriteAsync(0, Ct);
        await writer.FirstStarted.Task.WaitAsync(Ct);
        using var gone = new CancellationTokenSource();
        var abandoned = writer.WriteAsync(1, gone.Token);
        var kept = writer.WriteAsync(2, Ct);
        await gone.CancelAsync();
        writer.FirstMayFinish.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(("written 0", "written 2"), (await first, await kept));
        Assert.Equal([[0], [2]], writer.Batches);
    }

    /// <summary>Records each batch; the first one waits until the test lets it finish, so that others queue behind it.</summary>
    private sealed class RecordingWriter() : Batched<int, string>(NullLogger.Instance, maxBatch: 4)
    {
        public Task<string> WriteAsync(int item, CancellationToken ct) => RunBatchedAsync(item, ct);

        public bool HoldFirst { get; init; } = true;

        public int? Failing { get; init; }

        public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstMayFinish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<int[]> Batches { get; } = new();

        protected override async Task<IReadOnlyList<string>> RunTogetherAsync(IReadOnlyList<int> batch)
        {
            Batches.Enqueue([.. batch]);
            if (HoldFirst && FirstStarted.TrySetResult())
            {
                await FirstMayFinish.Task;
            }

            return batch.Contains(Failing ?? -1)
                ? throw new InvalidOperationException($"cannot write {Failing}")
                : batch.Select(i => $"written {i}").ToList();
        }
    }
}
