using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Drawbridge.Bench;

/// <summary>One way of opening a port on request, measured by <see cref="LatencyBench"/>.</summary>
internal interface IGrantSystem
{
    IPEndPoint Target(int grant);

    /// <summary>Work before the clock starts (fwknop: building the SPA packet, which its client does before sending).</summary>
    Task PrepareAsync(int grant);

    /// <summary>The measured request; the clock runs from its start to the first successful connect.</summary>
    Task RequestAsync(int grant);

    /// <summary>Closes the grant again, so the next one starts from a closed port.</summary>
    Task RevokeAsync(int grant);
}

/// <summary>
/// Grant latency: from the start of the request to the first successful TCP connect from the requester's namespace,
/// sequential grants. With several systems their grants take turns, so a noisy moment of the machine falls on all of
/// them alike. Bounded: at most 1,000 grants per system plus warm-up, each open within 10 s and closed within about 7 s.
/// </summary>
internal static class LatencyBench
{
    public static async Task<List<double>[]> RunAsync(IReadOnlyList<IGrantSystem> systems, int grants, int warmup, bool verbose)
    {
        // Warm-up grants are not counted: a running server has its hot paths compiled at full optimization (tier 1);
        // the pause after them lets the runtime finish that. Cold-start cost is a separate figure (footprint scenario).
        var samples = systems.Select(_ => new List<double>()).ToArray();
        for (var i = -warmup; i < grants; i++)
        {
            if (i == 0 && warmup > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            for (var s = 0; s < systems.Count; s++)
            {
                var opened = await GrantAsync(systems[s], i);
                if (i >= 0)
                {
                    samples[s].Add(opened.TotalMilliseconds);
                }

                if (verbose)
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{systems[s].Target(i)}: open after {opened.TotalMilliseconds:F1} ms"));
                }
            }
        }

        return samples;
    }

    private static async Task<TimeSpan> GrantAsync(IGrantSystem system, int grant)
    {
        var target = system.Target(grant);
        Probe.WaitClosed(target);
        await system.PrepareAsync(grant);
        var clock = Stopwatch.StartNew();
        await system.RequestAsync(grant);
        var opened = Probe.FirstConnect(target, clock, TimeSpan.FromSeconds(10));
        await system.RevokeAsync(grant);
        return opened;
    }
}
