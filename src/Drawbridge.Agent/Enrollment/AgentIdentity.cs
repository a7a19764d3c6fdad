using System.Text.Json;

namespace Drawbridge.Agent.Enrollment;

/// <summary>The agent's own credential, kept in {state-dir}/agent.json with mode 0600.</summary>
internal sealed class AgentIdentity
{
    public const string FileName = "agent.json";

    public required string Server { get; set; }
    public required string MachineId { get; set; }
    public required string MachineName { get; set; }
    public required string Credential { get; set; }

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FileName);

    public static AgentIdentity? Load(string stateDirectory)
    {
        var path = PathIn(stateDirectory);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), AgentJson.Default.AgentIdentity) : null;
    }

    public void Save(string stateDirectory) =>
        SecretFile.Write(PathIn(stateDirectory), JsonSerializer.Serialize(this, AgentJson.Default.AgentIdentity));
}

internal static class SecretFile
{
    /// <summary>Creates the file readable by its owner only from the first byte on, then renames it into place.</summary>
    public static void Write(string path, string content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
