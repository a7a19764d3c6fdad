using System.Diagnostics;
using System.Globalization;

namespace Drawbridge.Bench;

/// <summary>What the loopback scenarios read about the server process they load, from /proc.</summary>
internal static class ServerProcess
{
    /// <summary>User and system CPU time so far: steadier than a rate on a shared 2-core machine.</summary>
    public static TimeSpan Cpu(int pid)
    {
        using var server = Process.GetProcessById(pid);
        return server.TotalProcessorTime;
    }

    public static string Rss(int pid) => Status(pid, "VmRSS");

    public static string PeakRss(int pid) => Status(pid, "VmHWM");

    /// <summary>A memory field of /proc/PID/status, in MiB.</summary>
    public static string Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal)) is { } line
            ? $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024} MiB" : "?";
}
