using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Drawbridge.Bench;

/// <summary>
/// Close precision: how long after a grant's end time the first new connection is refused, measured from the
/// requester's namespace with a fresh connect attempt every millisecond from shortly before the end time. Normal:
/// everything running. Killed: the server and every agent are killed (-9) after the grants opened, so only the kernel's
/// element timeouts can close them. Bounded: at most 200 grants, each probed for at most 3 s after its end.
/// </summary>
internal static class CloseBench
{
    private static readonly TimeSpan ProbeFrom = TimeSpan.FromMilliseconds(300);

    // Every connect that gets in is a real sshd session (a fork); one a millisecond for 300 ms overran sshd's accept
    // queue, whose dropped SYNs read as a closed port (bench/README.md). So attempts are sparse until shortly before
    // the end and dense from there.
    private static readonly TimeSpan DenseFrom = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan SparseInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan DenseInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan ProbeUntil = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(3);
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(HttpClient http, string subscription, int hosts, int grants, string? killPidsFile)
    {
        var errors = new List<(double LastOpen, double FirstClosed)>();
        if (killPidsFile is null)
        {
            // One grant at a time, rotating over the hosts: nothing else competes with the probe.
            for (var i = 0; i < grants; i++)
            {
                var host = (i % hosts) + 1;
                var end = await OpenAsync(http, subscription, host, "2s");
                errors.Add(ClosedAfter(DrawbridgeGrants.Ssh(host), end));
            }
        }
        else
        {
            // One grant per host with end times a second apart, all open; then the server and the agents die.
            var ends = new DateTimeOffset[hosts];
            for (var host = 1; host <= hosts; host++)
            {
                ends[host - 1] = await OpenAsync(http, subscription, host, string.Create(CultureInfo.InvariantCulture, $"{5 + host}s"));
            }

            foreach (var pid in File.ReadAllLines(killPidsFile).Where(l => l.Length > 0))
            {
                Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture)).Kill();
            }

            for (var host = 1; host <= hosts; host++)
            {
                errors.Add(ClosedAfter(DrawbridgeGrants.Ssh(host), ends[host - 1]));
            }
        }

        var closed = errors.Select(e => e.FirstClosed).Order().ToList();
        var open = errors.Select(e => e.LastOpen).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {(killPidsFile is null ? "running" : "server and agents killed")} | {errors.Count} | {closed[0]:F1} | {Percentile.Of(closed, 0.5):F1} | {Percentile.Of(closed, 0.99):F1} | {closed[^1]:F1} | {Percentile.Of(open, 0.99):F1} | {open[^1]:F1} |"));
        return 0;
    }

    /// <summary>Initiates a grant and waits until it is open; returns its end time as the server set it.</summary>
    private static async Task<DateTimeOffset> OpenAsync(HttpClient http, string subscription, int host, string duration)
    {
        var request = await BenchApi.InitiatedAsync(http, subscription, "default", $"h{host}", duration);
        var end = request.VirtualMachines[0].Ports[0].EndTimeUtc;
        for (var i = 0; i < 2000 && !Probe.Connects(DrawbridgeGrants.Ssh(host), TimeSpan.FromMilliseconds(50)); i++)
        {
            await Task.Delay(1);
        }

        return end;
    }

    /// <summary>
    /// Milliseconds from <paramref name="end"/> to the start of the last connect that still succeeded and of the first
    /// that failed (negative: before the end). The port closed between the two, as far as this process was scheduled
    /// in time to tell: on a busy machine a probe can start late, which widens the gap but never narrows it.
    /// </summary>
    private static (double LastOpen, double FirstClosed) ClosedAfter(IPEndPoint target, DateTimeOffset end)
    {
        var wait = end - ProbeFrom - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }

        var lastOpen = double.NaN;
        while (DateTimeOffset.UtcNow < end + ProbeUntil)
        {
            // A short attempt can fail only because this 2-core machine was busy; a closed port also fails a second,
            // patient attempt (a SYN dropped by the JIT deny is never answered), a busy one does not.
            var started = DateTimeOffset.UtcNow;
            if (Probe.Connects(target, AttemptTimeout))
            {
                // Its SYN left no earlier than this and was let in: the port was open at least until then.
                lastOpen = (started - end).TotalMilliseconds;
            }
            else if (!Probe.Connects(target, ConfirmTimeout))
            {
                return (lastOpen, (started - end).TotalMilliseconds);
            }

            Thread.Sleep(end - DateTimeOffset.UtcNow > DenseFrom ? SparseInterval : DenseInterval);
        }

        throw new TimeoutException($"{target} still open {ProbeUntil.TotalSeconds} s after its end time");
    }
}
