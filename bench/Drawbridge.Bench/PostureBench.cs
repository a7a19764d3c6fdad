using System.Diagnostics;
using System.Globalization;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Bench;

/// <summary>
/// Assessment at scale: machines each with their own NSG of N rules (seeded, so runs compare), mixing allows and
/// denies, service tags, public and private prefixes and port ranges, like real groups.
/// </summary>
internal static class PostureBench
{
    public static void Run(int machines, int rulesPerNsg)
    {
        var random = new Random(42);
        var inputs = new List<PostureInput>(machines);
        for (var m = 0; m < machines; m++)
        {
            var rules = new List<NsgRule>(rulesPerNsg);
            for (var r = 0; r < rulesPerNsg; r++)
            {
                var source = random.Next(6) switch
                {
                    0 => "Internet",
                    1 => "*",
                    2 => "VirtualNetwork",
                    3 => $"10.{random.Next(256)}.0.0/16",
                    4 => $"{random.Next(1, 223)}.{random.Next(256)}.{random.Next(256)}.0/24",
                    _ => $"2001:db8:{random.Next(65536):x}::/48",
                };
                var from = random.Next(1, 6000);
                var port = random.Next(4) == 0 ? "*" : random.Next(2) == 0 ? from.ToString(CultureInfo.InvariantCulture) : $"{from}-{from + random.Next(100)}";
                var errors = new ValidationErrors();
                rules.Add(NsgRule.TryCreate($"rule{r}", 100 + (r * 10), "Inbound", random.Next(3) == 0 ? "Deny" : "Allow",
                    random.Next(3) switch { 0 => "Tcp", 1 => "Udp", _ => "*" }, [source], [port], "r", errors)!);
            }

            inputs.Add(new PostureInput(m % 10 == 0 ? new HashSet<int> { 22 } : null, [new NetworkSecurityGroup($"nsg{m}", rules)], HasEnforcer: m % 2 == 0));
        }

        // Once on one thread, once on every core: machines are independent, so a fleet assessment runs in parallel.
        var clock = Stopwatch.StartNew();
        var states = new PostureState[machines];
        for (var i = 0; i < machines; i++)
        {
            states[i] = PostureAssessment.Assess(inputs[i]).State;
        }

        var serial = clock.Elapsed;
        clock.Restart();
        var parallel = new PostureState[machines];
        Parallel.For(0, machines, i => parallel[i] = PostureAssessment.Assess(inputs[i]).State);
        var all = clock.Elapsed;
        if (!states.SequenceEqual(parallel))
        {
            throw new InvalidOperationException("serial and parallel assessments disagree");
        }

        Console.WriteLine("| machines | rules per NSG | seconds, 1 thread | seconds, all cores | healthy | unhealthy | not applicable |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {machines} | {rulesPerNsg} | {serial.TotalSeconds:F2} | {all.TotalSeconds:F2} ({Environment.ProcessorCount} cores) | {states.Count(s => s == PostureState.Healthy)} | {states.Count(s => s == PostureState.Unhealthy)} | {states.Count(s => s == PostureState.NotApplicable)} |"));
    }
}
