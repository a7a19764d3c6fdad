using System.Diagnostics;

namespace Drawbridge.Agent.Nftables;

/// <summary>
/// Runs the nft binary. Scripts go through standard input, so nothing is ever parsed by a shell.
/// <paramref name="prefixArguments"/> lets tests run it as "ip netns exec NS nft".
/// </summary>
internal sealed class NftCommand(string executable = "nft", string prefixArguments = "")
{
    public async Task<string> RunAsync(string arguments, string? input, CancellationToken ct)
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

internal sealed class NftException(string message) : Exception(message);
