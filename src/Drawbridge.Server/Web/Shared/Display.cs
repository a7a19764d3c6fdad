using System.Globalization;
using Drawbridge.Jit;
using Drawbridge.Posture;

namespace Drawbridge.Server.Web.Shared;

/// <summary>How the pages write times, durations and protocols: UTC, in words a person reads at a glance.</summary>
internal static class Display
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string State(PostureState state) => state switch
    {
        PostureState.Healthy => "Healthy",
        PostureState.Unhealthy => "Unhealthy",
        PostureState.NotApplicable => "Not applicable",
    };

    public static string Protocol(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => "TCP",
        PortProtocol.Udp => "UDP",
        PortProtocol.Any => "Any",
    };

    /// <summary>"3 hours", "90 minutes", "45 seconds".</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? Plural((int)span.TotalHours, "hour")
        : span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes) ? Plural((int)span.TotalMinutes, "minute")
        : Plural((int)span.TotalSeconds, "second");

    /// <summary>Time left until <paramref name="end"/>, as the live script writes it too.</summary>
    public static string Left(DateTimeOffset end, DateTimeOffset now)
    {
        var left = end - now;
        if (left <= TimeSpan.Zero)
        {
            return "ended";
        }

        return left.TotalHours >= 1 ? $"{(int)left.TotalHours} h {left.Minutes} min" : left.TotalMinutes >= 1 ? $"{left.Minutes} min {left.Seconds} s" : $"{left.Seconds} s";
    }

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit}" : $"{n.ToString(CultureInfo.InvariantCulture)} {unit}s";
}
