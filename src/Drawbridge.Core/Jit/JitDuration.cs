using System.Globalization;
using System.Text;

namespace Drawbridge.Jit;

/// <summary>
/// Durations as Azure writes them (ISO 8601, "PT3H") and as people type them ("3h", "90m", "1h30m").
/// Only day and time designators are accepted: a year or month has no fixed length.
/// </summary>
public static class JitDuration
{
    public static readonly TimeSpan DefaultMaximum = TimeSpan.FromHours(3);
    public static readonly TimeSpan PolicyCeiling = TimeSpan.FromDays(1);
    public static readonly TimeSpan DefaultMinimum = TimeSpan.FromMinutes(5);

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > 32)
        {
            return false;
        }

        return text[0] is 'P' or 'p' ? TryParseIso(text.AsSpan(1), out duration) : TryParseShort(text, out duration);
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration) ? duration : throw new FormatException($"'{text}' is not a duration (use ISO 8601 like PT1H or short form like 90m)");

    /// <summary>ISO 8601 form with the largest units first, e.g. PT1H30M, P1D, PT0.5S.</summary>
    public static string ToIso(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "durations are never negative");
        }

        if (duration == TimeSpan.Zero)
        {
            return "PT0S";
        }

        var sb = new StringBuilder("P");
        if (duration.Days > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{duration.Days}D");
        }

        var rest = duration - TimeSpan.FromDays(duration.Days);
        if (rest > TimeSpan.Zero)
        {
            sb.Append('T');
            if (rest.Hours > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{rest.Hours}H");
            }

            if (rest.Minutes > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{rest.Minutes}M");
            }

            var seconds = rest - new TimeSpan(rest.Hours, rest.Minutes, 0);
            if (seconds > TimeSpan.Zero)
            {
                sb.Append(seconds.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('S');
            }
        }

        return sb.ToString();
    }

    /// <summary>Compact human form: 3h, 1h30m, 45s.</summary>
    public static string ToShort(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return "0s";
        }

        var sb = new StringBuilder();
        if (duration.Days > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{duration.Days}d");
        }

        if (duration.Hours > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{duration.Hours}h");
        }

        if (duration.Minutes > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        }

        if (duration.Seconds > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{duration.Seconds}s");
        }

        return sb.ToString();
    }

    private static bool TryParseIso(ReadOnlySpan<char> text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var inTime = false;
        var any = false;
        var lastRank = -1;
        while (!text.IsEmpty)
        {
            if (text[0] is 'T' or 't')
            {
                if (inTime)
                {
                    return false;
                }

                inTime = true;
                text = text[1..];
                if (text.IsEmpty)
                {
                    return false;
                }

                continue;
            }

            var numberLength = 0;
            while (numberLength < text.Length && (char.IsAsciiDigit(text[numberLength]) || text[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 || numberLength == text.Length
                || !decimal.TryParse(text[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var designator = char.ToUpperInvariant(text[numberLength]);
            (int rank, TimeSpan unit) = (designator, inTime) switch
            {
                ('D', false) => (0, TimeSpan.FromDays(1)),
                ('H', true) => (1, TimeSpan.FromHours(1)),
                ('M', true) => (2, TimeSpan.FromMinutes(1)),
                ('S', true) => (3, TimeSpan.FromSeconds(1)),
                _ => (-1, TimeSpan.Zero),
            };

            // Units must appear once each, largest first, and only seconds may be fractional.
            if (rank <= lastRank || (rank != 3 && value != decimal.Truncate(value)) || value > 100_000)
            {
                return false;
            }

            duration += TimeSpan.FromTicks((long)(value * unit.Ticks));
            lastRank = rank;
            any = true;
            text = text[(numberLength + 1)..];
        }

        return any;
    }

    private static bool TryParseShort(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var span = text.AsSpan();
        var lastRank = -1;
        while (!span.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < span.Length && char.IsAsciiDigit(span[numberLength]))
            {
                numberLength++;
            }

            if (numberLength == 0 || numberLength > 6 || numberLength == span.Length)
            {
                return false;
            }

            var value = int.Parse(span[..numberLength], CultureInfo.InvariantCulture);
            (int rank, TimeSpan unit) = char.ToLowerInvariant(span[numberLength]) switch
            {
                'd' => (0, TimeSpan.FromDays(1)),
                'h' => (1, TimeSpan.FromHours(1)),
                'm' => (2, TimeSpan.FromMinutes(1)),
                's' => (3, TimeSpan.FromSeconds(1)),
                _ => (-1, TimeSpan.Zero),
            };

            if (rank <= lastRank)
            {
                return false;
            }

            duration += unit * value;
            lastRank = rank;
            span = span[(numberLength + 1)..];
        }

        return true;
    }
}
