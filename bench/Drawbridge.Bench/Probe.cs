using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Drawbridge.Bench;

/// <summary>TCP connect probes from the requester's namespace, shared by every scenario that asks "is it open yet".</summary>
internal static class Probe
{
    /// <summary>
    /// The elapsed time of <paramref name="clock"/> when a connection to <paramref name="target"/> first completes.
    /// A dropped SYN is only retried after about a second, so one connect attempt cannot see the port open in time:
    /// a fresh attempt starts every millisecond and the first that completes wins.
    /// </summary>
    public static async Task<TimeSpan> FirstConnectAsync(IPEndPoint target, Stopwatch clock, TimeSpan limit)
    {
        using var done = new CancellationTokenSource(limit);
        var winner = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = new List<Task>();
        while (!winner.Task.IsCompleted && !done.IsCancellationRequested)
        {
            attempts.Add(AttemptAsync(target, clock, winner, done.Token));
            await Task.Delay(1);
        }

        done.Cancel();
        await Task.WhenAll(attempts);
        return winner.Task.IsCompletedSuccessfully ? winner.Task.Result : throw new TimeoutException($"{target} did not open within {limit}");
    }

    /// <summary>Waits until a connection to <paramref name="target"/> is refused or dropped (at most about 7 s).</summary>
    public static async Task WaitClosedAsync(IPEndPoint target)
    {
        for (var i = 0; i < 100; i++)
        {
            if (!await ConnectsAsync(target, TimeSpan.FromMilliseconds(50)))
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{target} stayed open");
    }

    public static async Task<bool> ConnectsAsync(IPEndPoint target, TimeSpan timeout)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(target, cancel.Token);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    private static async Task AttemptAsync(IPEndPoint target, Stopwatch clock, TaskCompletionSource<TimeSpan> winner, CancellationToken ct)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(TimeSpan.FromMilliseconds(200));
        try
        {
            await socket.ConnectAsync(target, attempt.Token);
            winner.TrySetResult(clock.Elapsed);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            // Dropped or refused: a later attempt will tell.
        }
    }
}
