using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Drawbridge.Bench;

/// <summary>
/// TCP connect probes from the requester's namespace, shared by every scenario that asks "is it open yet".
/// Attempts are non-blocking connects waited for with poll(2) (Socket.Select) on the calling thread, which
/// the kernel wakes the moment a SYN is answered. Async connects were used first: their completions wait for a
/// thread-pool worker, and on this 2-core machine the probe saw a port that had been open for 3 ms only 9 ms after
/// it started looking (bench/README.md). The calling thread is blocked while it probes; the bench does one thing at a
/// time.
/// </summary>
internal static class Probe
{
    /// <summary>A dropped SYN is only retried after about a second, so a fresh attempt starts this often.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(1);

    /// <summary>An attempt unanswered this long had its SYN dropped; keeping it open would only fill the poll set.</summary>
    private static readonly TimeSpan Abandon = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The elapsed time of <paramref name="clock"/> when a connection to <paramref name="target"/> first completes, with a
    /// fresh attempt every <see cref="Interval"/> for at most <paramref name="limit"/>.
    /// </summary>
    public static TimeSpan FirstConnect(IPEndPoint target, Stopwatch clock, TimeSpan limit)
    {
        var deadline = clock.Elapsed + limit;
        var attempts = new List<(Socket Socket, TimeSpan Started)>();
        try
        {
            var next = clock.Elapsed;
            while (clock.Elapsed < deadline)
            {
                if (clock.Elapsed >= next)
                {
                    attempts.Add((Start(target), clock.Elapsed));
                    next = clock.Elapsed + Interval;
                }

                foreach (var (socket, connected) in Answered(attempts.Select(a => a.Socket), next - clock.Elapsed))
                {
                    if (connected)
                    {
                        return clock.Elapsed;
                    }

                    // Refused: this attempt is over, a later one will tell.
                    attempts.RemoveAll(a => a.Socket == socket);
                    socket.Dispose();
                }

                foreach (var stale in attempts.Where(a => clock.Elapsed - a.Started > Abandon).ToList())
                {
                    attempts.Remove(stale);
                    stale.Socket.Dispose();
                }
            }
        }
        finally
        {
            foreach (var (socket, _) in attempts)
            {
                socket.Dispose();
            }
        }

        throw new TimeoutException($"{target} did not open within {limit}");
    }

    /// <summary>Whether one connect to <paramref name="target"/> completes within <paramref name="timeout"/>.</summary>
    public static bool Connects(IPEndPoint target, TimeSpan timeout)
    {
        using var socket = Start(target);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Answered([socket], timeout - clock.Elapsed) is [var (_, connected)])
            {
                return connected;
            }
        }

        return false;
    }

    /// <summary>Waits until a connection to <paramref name="target"/> is refused or dropped (at most about 7 s).</summary>
    public static void WaitClosed(IPEndPoint target)
    {
        for (var i = 0; i < 100; i++)
        {
            if (!Connects(target, TimeSpan.FromMilliseconds(50)))
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"{target} stayed open");
    }

    private static Socket Start(IPEndPoint target)
    {
        // Closed with a reset: a probe's connection ends at once, leaving no TIME_WAIT and no half-closed session.
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, LingerState = new LingerOption(true, 0) };
        try
        {
            socket.Connect(target);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // The SYN is on its way; poll tells when it is answered.
        }

        return socket;
    }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for any of <paramref name="sockets"/> to be answered: connected (writable, no
    /// error) or refused (writable with an error). Empty when none was.
    /// </summary>
    private static List<(Socket Socket, bool Connected)> Answered(IEnumerable<Socket> sockets, TimeSpan wait)
    {
        var writable = sockets.ToList();
        if (writable.Count == 0)
        {
            return [];
        }

        // poll(2) counts whole milliseconds and .NET rounds down: a shorter wait would return at once, and the probe
        // would spin a core that the system it measures needs. The kernel still wakes it the moment a SYN is answered.
        Socket.Select(null, writable, null, TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, wait.TotalMilliseconds))));
        return writable.Select(s => (s, (int)s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! == 0)).ToList();
    }
}
