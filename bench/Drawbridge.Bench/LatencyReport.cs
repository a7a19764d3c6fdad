using System.Globalization;
using System.Text;

namespace Drawbridge.Bench;

/// <summary>The latency table (with the ratio of the first system to each other one per percentile) and its chart.</summary>
internal static class LatencyReport
{
    private static readonly double[] Percentiles = [0.5, 0.9, 0.99];
    private static readonly string[] Colors = ["#1565c0", "#c62828", "#ef6c00", "#2e7d32"];

    public static void Print(IReadOnlyList<(string Name, List<double> Samples)> systems)
    {
        Console.WriteLine("| system | grants | p50 ms | p90 ms | p99 ms | max ms |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var (name, samples) in systems)
        {
            var sorted = samples.Order().ToList();
            Console.WriteLine(Invariant($"| {name} | {sorted.Count} | {string.Join(" | ", Percentiles.Select(q => $"{Percentile.Of(sorted, q):F1}"))} | {sorted[^1]:F1} |"));
        }

        var (first, firstSamples) = (systems[0].Name, systems[0].Samples.Order().ToList());
        foreach (var (name, samples) in systems.Skip(1))
        {
            var sorted = samples.Order().ToList();
            var ratios = Percentiles.Append(1.0).Select(q => Percentile.Of(firstSamples, q) / Percentile.Of(sorted, q));
            Console.WriteLine(Invariant($"| ratio {first} / {name} | | {string.Join(" | ", ratios.Select(r => $"{r:F2}"))} |"));
        }
    }

    /// <summary>
    /// Cumulative distributions on a logarithmic time axis: how many grants (y) had opened within x milliseconds.
    /// Plain SVG written here, so the chart needs nothing but the run that measured it.
    /// </summary>
    public static void WriteChart(string path, IReadOnlyList<(string Name, List<double> Samples)> systems, string caption)
    {
        const int width = 760, left = 60, right = 20, top = 40, bottom = 60, plotHeight = 300;
        var height = top + plotHeight + bottom + (18 * systems.Count);
        var plotWidth = width - left - right;
        var max = systems.Max(s => s.Samples.Max());
        var decades = Math.Max(1, Math.Ceiling(Math.Log10(Math.Max(max, 10))));
        double X(double ms) => left + (plotWidth * Math.Log10(Math.Clamp(ms, 1, Math.Pow(10, decades))) / decades);
        double Y(double fraction) => top + (plotHeight * (1 - fraction));

        var svg = new StringBuilder();
        svg.Append(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"""));
        svg.Append(Invariant($"""<title>Grant latency, cumulative distribution</title><rect width="{width}" height="{height}" fill="white"/>"""));
        svg.Append(Invariant($"""<text x="{left}" y="22" font-size="14">{Escape(caption)}</text>"""));
        foreach (var fraction in new[] { 0.0, 0.5, 0.9, 0.99 })
        {
            svg.Append(Invariant($"""<line x1="{left}" x2="{width - right}" y1="{Y(fraction):F1}" y2="{Y(fraction):F1}" stroke="#ddd"/><text x="{left - 6}" y="{Y(fraction) + 4:F1}" text-anchor="end">{fraction * 100:0.#}%</text>"""));
        }

        for (var decade = 0; decade <= decades; decade++)
        {
            foreach (var step in decade < decades ? new[] { 1, 2, 5 } : [1])
            {
                var ms = step * Math.Pow(10, decade);
                svg.Append(Invariant($"""<line x1="{X(ms):F1}" x2="{X(ms):F1}" y1="{top}" y2="{top + plotHeight}" stroke="#eee"/><text x="{X(ms):F1}" y="{top + plotHeight + 16}" text-anchor="middle">{ms:0}</text>"""));
            }
        }

        svg.Append(Invariant($"""<text x="{left + (plotWidth / 2)}" y="{top + plotHeight + 36}" text-anchor="middle">milliseconds from the request to the first successful TCP connect (log scale)</text>"""));
        for (var i = 0; i < systems.Count; i++)
        {
            var sorted = systems[i].Samples.Order().ToList();
            var points = new StringBuilder(Invariant($"{X(sorted[0]):F1},{Y(0):F1}"));
            for (var k = 0; k < sorted.Count; k++)
            {
                // A step: the fraction rises at each sample's time.
                points.Append(Invariant($" {X(sorted[k]):F1},{Y((double)k / sorted.Count):F1} {X(sorted[k]):F1},{Y((double)(k + 1) / sorted.Count):F1}"));
            }

            var color = Colors[i % Colors.Length];
            svg.Append(Invariant($"""<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>"""));
            var legend = top + plotHeight + bottom + (i * 18);
            svg.Append(Invariant($"""<rect x="{left}" y="{legend - 6}" width="14" height="4" fill="{color}"/><text x="{left + 20}" y="{legend}">{Escape(systems[i].Name)}: p50 {Percentile.Of(sorted, 0.5):F1} ms, p99 {Percentile.Of(sorted, 0.99):F1} ms ({sorted.Count} grants)</text>"""));
        }

        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
