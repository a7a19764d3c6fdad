using System.Globalization;
using Drawbridge.Jit;

namespace Drawbridge.Server.Http;

/// <summary>
/// A <c>since</c> query value, as the audit API and the pages take it: an instant (2026-11-23T10:00:00Z) or a duration
/// back from now (1h, PT30M, 7d). Durations are bounded, so no value can reach back past what a clock can represent.
/// </summary>
internal static class SinceQuery
{
    public static readonly TimeSpan MaxBack = TimeSpan.FromDays(36_525);

    public static string Expected(string text) =>
        $"'{text}' is neither a time (2026-11-23T10:00:00Z) nor a duration back from now (1h, 7d; at most 100 years)";

    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset from)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            from = instant.ToUniversalTime();
            return true;
        }

        var ok = JitDuration.TryParse(text, out var back) && back <= MaxBack;
        from = ok ? now - back : default;
        return ok;
    }
}
