using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;
using Drawbridge.Posture;

namespace Drawbridge.Cli.Commands;

/// <summary>assess [--remediate VM ... [--bypass narrow|remove]]: the management-ports recommendation per machine, and its fix.</summary>
internal static class AssessCommands
{
    /// <summary>A machine can have a bypassing rule per port; more rounds than that means something keeps re-adding them.</summary>
    private const int MaxBypassFixes = 8;

    public static Command Create()
    {
        var remediate = new Option<string[]>("--remediate")
        {
            Description = "Enable JIT on these machines (default ports 22, 3389, 5985, 5986, any protocol, per-request source, 3h; or --port, --max-duration, --source), then assess again",
            AllowMultipleArgumentsPerToken = true,
        };
        var bypass = new Option<string?>("--bypass")
        {
            Description = "With --remediate: fix a network security group rule that lets the Internet past the JIT deny: "
                + "narrow (take the exposed management ports out of the rule) or remove (delete the rule)",
        };
        bypass.AcceptOnlyFromAmong("narrow", "remove");
        var assess = new Command("assess", "Which machines leave management ports open: Healthy, Unhealthy or NotApplicable, with the reason") { remediate, bypass, Cli.ResourceGroup };
        foreach (var option in JitCommands.SettingsOptions)
        {
            assess.Options.Add(option);
        }

        assess.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var resourceGroup = result.GetValue(Cli.ResourceGroup)!;
            foreach (var name in result.GetValue(remediate) ?? [])
            {
                var machine = await VmCommands.GetAsync(api, name, resourceGroup, ct);
                if (machine.Properties?.JitEnabled != true)
                {
                    var rules = JitCommands.RulesFrom(result);
                    await JitCommands.EnableAsync(api, machine, resourceGroup, rules, ct);
                    printer.Line($"Remediated {machine.Name}: just-in-time access enabled on ports {string.Join(", ", rules.Select(r => r.Number))}.");
                }

                await FixBypassesAsync(api, printer, machine, result.GetValue(bypass), ct);
            }

            var path = DrawbridgeApi.WithVersion($"{api.Subscription}/providers/Microsoft.Security/assessments", DrawbridgeApi.SecurityApiVersion);
            var assessments = await api.GetAsync(path, DrawbridgeJson.Wire.ArmListSecurityAssessment, ct);
            printer.Show(assessments, DrawbridgeJson.Indented.ArmListSecurityAssessment, () =>
            {
                printer.Line(JitAssessment.DisplayName);
                printer.Table(["MACHINE", "STATE", "REASON"], assessments.Value.Select(a => new[]
                {
                    Printer.Name(a.Properties?.ResourceDetails?.Id), a.Properties?.Status?.Code ?? "", a.Properties?.Status?.Description ?? "",
                }));
            });
            return 0;
        });
        return assess;
    }

    /// <summary>While a group rule bypasses the machine's JIT deny, narrows or removes it (or says how to).</summary>
    private static async Task FixBypassesAsync(DrawbridgeApi api, Printer printer, VirtualMachine machine, string? bypass, CancellationToken ct)
    {
        var path = DrawbridgeApi.WithVersion($"{machine.Id}/providers/Microsoft.Security/assessments/{JitAssessment.Key}", DrawbridgeApi.SecurityApiVersion);
        for (var round = 0; round < MaxBypassFixes; round++)
        {
            var assessment = await api.GetAsync(path, DrawbridgeJson.Wire.SecurityAssessment, ct);
            if (assessment.Properties?.AdditionalData is not { } data || data.GetValueOrDefault("jitBypassed") != "true")
            {
                return;
            }

            var (groupId, ruleName, ports) = (data["networkSecurityGroupId"], data["securityRule"], data["exposedPorts"].Split(',').Select(int.Parse).ToList());
            if (bypass is null)
            {
                printer.Line($"{machine.Name}: NSG {Printer.Name(groupId)} rule {ruleName} still lets the Internet reach port(s) {string.Join(", ", ports)} above the JIT deny; "
                    + "run again with --bypass narrow (take those ports out of the rule) or --bypass remove (delete the rule).");
                return;
            }

            var group = await NsgCommands.GetAsync(api, groupId, "", ct);
            var rules = group.Properties!.SecurityRules!;
            var rule = rules.Single(r => string.Equals(r.Name, ruleName, StringComparison.OrdinalIgnoreCase));
            var rest = bypass == "narrow" ? Narrowed(rule, ports) : [];
            if (rest.Count == 0)
            {
                rules.Remove(rule);
            }
            else
            {
                rule.Properties!.DestinationPortRange = null;
                rule.Properties.DestinationPortRanges = rest;
            }

            await NsgCommands.PutAsync(api, api.SecurityGroupPath(groupId, ""), group, ct);
            printer.Line(rest.Count == 0
                ? $"Remediated {machine.Name}: removed NSG {group.Name} rule {ruleName}."
                : $"Remediated {machine.Name}: NSG {group.Name} rule {ruleName} narrowed to port(s) {string.Join(", ", rest)}.");
        }

        throw new CliException($"{machine.Name}: still bypassed after {MaxBypassFixes} fixes; see 'drawbridge assess'.");
    }

    private static List<string> Narrowed(SecurityRuleResource rule, List<int> ports)
    {
        var ranges = (rule.Properties?.DestinationPortRange is { Length: > 0 } one ? [one] : rule.Properties?.DestinationPortRanges ?? [])
            .Select(text => PortRange.TryParse(text, out var range) ? range : throw new CliException($"rule {rule.Name} has a port range '{text}' this version cannot read."));
        return PortRange.Except(ranges, ports).Select(r => r.ToString()).ToList();
    }
}
