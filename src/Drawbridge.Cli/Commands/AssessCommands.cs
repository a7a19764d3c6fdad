using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>assess [--remediate VM ...]: the management-ports recommendation per machine, and its one-step fix.</summary>
internal static class AssessCommands
{
    public static Command Create()
    {
        var remediate = new Option<string[]>("--remediate")
        {
            Description = "Enable JIT with the default ports (22, 3389, 5985, 5986, any protocol, per-request source, 3h) on these machines, then assess again",
            AllowMultipleArgumentsPerToken = true,
        };
        var assess = new Command("assess", "Which machines leave management ports open: Healthy, Unhealthy or NotApplicable, with the reason") { remediate, Cli.ResourceGroup };
        assess.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            foreach (var name in result.GetValue(remediate) ?? [])
            {
                var machine = await VmCommands.GetAsync(api, name, result.GetValue(Cli.ResourceGroup)!, ct);
                await JitCommands.EnableAsync(api, machine, result.GetValue(Cli.ResourceGroup)!, JitCommands.ParseRules([], "3h", []), ct);
                printer.Line($"Remediated {machine.Name}: just-in-time access enabled on ports {string.Join(", ", JitCommands.DefaultPorts)}.");
            }

            var path = DrawbridgeApi.WithVersion($"{api.Subscription}/providers/Microsoft.Security/assessments", DrawbridgeApi.SecurityApiVersion);
            var assessments = await api.GetAsync(path, DrawbridgeJson.Wire.ArmListSecurityAssessment, ct);
            printer.Show(assessments, DrawbridgeJson.Indented.ArmListSecurityAssessment, () =>
            {
                printer.Line("Management ports of virtual machines should be protected with just-in-time network access control");
                printer.Table(["MACHINE", "STATE", "REASON"], assessments.Value.Select(a => new[]
                {
                    Printer.Name(a.Properties?.ResourceDetails?.Id), a.Properties?.Status?.Code ?? "", a.Properties?.Status?.Description ?? "",
                }));
            });
            return 0;
        });
        return assess;
    }
}
