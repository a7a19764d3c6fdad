using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;
using Drawbridge.Inventory;

namespace Drawbridge.Cli.Commands;

/// <summary>import azure|aws: machines and their network security groups from a cloud's own CLI output.</summary>
internal static class ImportCommands
{
    public static Command Create()
    {
        var vms = new Option<string>("--vms") { Description = "Output of 'az vm list' (or 'az vm list -d', which adds addresses)", Required = true };
        var nsgs = new Option<string>("--nsgs") { Description = "Output of 'az network nsg list'", Required = true };
        var nics = new Option<string?>("--nics") { Description = "Output of 'az network nic list': resolves groups attached to subnets" };
        var azure = new Command("azure", "Import Azure virtual machines and network security groups") { vms, nsgs, nics };
        azure.SetHandler((result, printer, ct) =>
        {
            var nicsFile = result.GetValue(nics);
            return ImportAsync(printer, () => AzureInventory.Read(
                ReadFile(result.GetValue(vms)!), result.GetValue(vms)!, ReadFile(result.GetValue(nsgs)!), result.GetValue(nsgs)!,
                nicsFile is null ? null : ReadFile(nicsFile), nicsFile), ct);
        });

        var instances = new Option<string>("--instances") { Description = "Output of 'aws ec2 describe-instances'", Required = true };
        var groups = new Option<string>("--security-groups") { Description = "Output of 'aws ec2 describe-security-groups'", Required = true };
        var resourceGroup = new Option<string>("--resource-group", "-g") { Description = "Resource group to put the instances and groups in", DefaultValueFactory = _ => "aws" };
        var aws = new Command("aws", "Import AWS EC2 instances and security groups") { instances, groups, resourceGroup };
        aws.SetHandler((result, printer, ct) => ImportAsync(printer, () => AwsInventory.Read(
            ReadFile(result.GetValue(instances)!), result.GetValue(instances)!, ReadFile(result.GetValue(groups)!), result.GetValue(groups)!,
            result.GetValue(resourceGroup)!), ct));

        return new Command("import", "Read a cloud inventory so its machines are assessed (they have no agent: JIT needs one)") { azure, aws };
    }

    private static async Task<int> ImportAsync(Printer printer, Func<InventoryImport> read, CancellationToken ct)
    {
        InventoryImport inventory;
        try
        {
            inventory = read();
        }
        catch (InventoryException e)
        {
            throw new CliException(e.Message);
        }

        using var api = DrawbridgeApi.FromConfig();
        var result = await api.PostAsync("api/v1/inventory/import", inventory, DrawbridgeJson.Wire.InventoryImport, DrawbridgeJson.Wire.InventoryImportResult, ct);
        printer.Show(result, DrawbridgeJson.Indented.InventoryImportResult, () =>
        {
            printer.Line($"Imported {result.Machines} machine(s), {result.Groups} network security group(s) and {result.Attachments} attachment(s) from {inventory.Source}.");
            foreach (var note in result.Notes)
            {
                printer.Line($"note: {note}");
            }

            printer.Line("Run 'drawbridge assess' to see which of them expose management ports.");
        });
        return 0;
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: {e.Message}");
        }
    }
}
