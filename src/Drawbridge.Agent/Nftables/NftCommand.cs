using System.Diagnostics;

namespace Drawbridge.Agent.Nftables;

/// <summary>
/// nftables through the nft binary: a process per call (~10 ms), used when libnftables cannot be loaded and by tests
/// that reach into a namespace with "ip netns exec NS nft" (<paramref name="prefixArguments"/>). Scripts go through
/// standard input, so nothing is ever parsed by a shell.
/// </summary>
internal sealed class NftCommand(string executable = "nft", string prefixArguments = "") : INftables
{
    public async Task ApplyAsync(string script, CancellationToken ct) => await RunAsync("-f -", script, ct);

    public Task<string> ListTableJsonAsync(string family, string table, CancellationToken ct) => RunAsync($"-j list table {family} {table}", null, ct);

    public Task<string> ListRulesetJsonAsync(CancellationToken ct) => RunAsync("-j list ruleset", null, ct);

    private async Task<string> RunAsync(string arguments, string? input, CancellationToken ct)
    {
        var start = new ProcessStartInfo(executable, prefixArguments.Length == 0 ? arguments : $"{prefixArguments} {arguments}")
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new NftException($"could not start {executable}");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), ct);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new NftException($"nft {arguments} failed ({process.ExitCode}): {(await error).Trim()}");
        }

        return await output;
    }
}
