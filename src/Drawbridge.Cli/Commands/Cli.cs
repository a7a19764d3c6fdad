using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;

namespace Drawbridge.Cli.Commands;

/// <summary>Options every command shares, and the wrapper that turns expected failures into one line and exit code 1.</summary>
internal static class Cli
{
    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "table (default) or json",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public static readonly Option<string> ResourceGroup = new("--resource-group", "-g")
    {
        Description = "Resource group of the machine",
        DefaultValueFactory = _ => DrawbridgeApi.DefaultResourceGroup,
    };

    public static void SetHandler(this Command command, Func<ParseResult, Printer, CancellationToken, Task<int>> handler) =>
        command.SetAction(async (result, ct) =>
        {
            try
            {
                return await handler(result, new Printer(result.GetValue(Output)), ct);
            }
            catch (CliException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
}
