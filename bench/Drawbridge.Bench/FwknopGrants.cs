using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Drawbridge.Bench;

/// <summary>
/// fwknop single packet authorization, for comparison: fwknopd (UDP-server or pcap mode, HMAC + AES keys) guards
/// TCP 22 of one lab host with iptables. The fwknop client builds each SPA packet before the clock starts (so its
/// start-up and crypto are not counted); the measured request is sending that one datagram. Revoking flushes
/// fwknopd's chain, which its expiry timer tolerates (it lists the chain before deleting a rule).
/// </summary>
internal sealed class FwknopGrants(IPAddress server, string serverNamespace, IPAddress source, string keysFile) : IGrantSystem, IDisposable
{
    private const int SpaPort = 62201;
    private readonly UdpClient udp = new(AddressFamily.InterNetwork);
    private readonly string packetFile = Path.Combine(Path.GetTempPath(), $"drawbridge-bench-spa-{Environment.ProcessId}");
    private readonly Dictionary<string, string> keys = File.ReadAllLines(keysFile)
        .Select(l => l.Split(':', 2, StringSplitOptions.TrimEntries)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
    private byte[] packet = [];

    public IPEndPoint Target(int grant) => new(server, 22);

    public async Task PrepareAsync(int grant)
    {
        await RunAsync("fwknop", "--no-rc-file", "--no-save-args", "--test", "--save-packet", packetFile, "-A", "tcp/22", "-a", source.ToString(), "-D", server.ToString(),
            "--use-hmac", "--key-base64-rijndael", keys["KEY_BASE64"], "--key-base64-hmac", keys["HMAC_KEY_BASE64"]);
        packet = File.ReadAllBytes(packetFile).AsSpan().TrimEnd("\n"u8).ToArray();
    }

    public async Task RequestAsync(int grant) => await udp.SendAsync(packet, new IPEndPoint(server, SpaPort));

    public Task RevokeAsync(int grant) => RunAsync("ip", "netns", "exec", serverNamespace, "iptables", "-w", "-F", "FWKNOP_INPUT");

    public void Dispose()
    {
        udp.Dispose();
        File.Delete(packetFile);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        arguments.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited with {process.ExitCode}: {await errors}{await output}");
        }
    }
}
