using System.Diagnostics;

namespace Drawbridge.EndToEnd;

/// <summary>A real process in a lab namespace, its output kept in a log file for when a test fails.</summary>
internal sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private LabProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public bool HasExited => _process.HasExited;

    public static LabProcess Start(string ns, string logPath, IDictionary<string, string>? environment, string file, params string[] arguments) =>
        Launch("ip", ["netns", "exec", ns, file, .. arguments], logPath, environment);

    /// <summary>A process in this test's own network namespace (loopback only).</summary>
    public static LabProcess StartLocal(string logPath, IDictionary<string, string>? environment, string file, params string[] arguments) =>
        Launch(file, arguments, logPath, environment);

    private static LabProcess Launch(string file, IEnumerable<string> arguments, string logPath, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new LabProcess(process, log);
    }

    /// <summary>SIGKILL, as kill -9: no shutdown code of the process runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The process outlived its log during disposal.
            }
        }
    }
}

internal static class Shell
{
    /// <summary>Runs a command to completion (bounded by <paramref name="timeout"/>) and returns exit code and output.</summary>
    public static (int Exit, string Output, string Error) Run(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null,
        string? input = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in time");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    public static string Check(string file, params string[] arguments)
    {
        var (exit, output, error) = Run(file, arguments);
        Assert.True(exit == 0, $"{file} {string.Join(' ', arguments)} failed ({exit}): {error}{output}");
        return output;
    }
}
