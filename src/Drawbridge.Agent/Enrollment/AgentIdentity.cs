using System.Text.Json;
using Drawbridge.IO;

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

    public void Save(string stateDirectory)
    {
        // The state directory holds the credential: owner only.
        Directory.CreateDirectory(stateDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        SecretFile.Write(PathIn(stateDirectory), JsonSerializer.Serialize(this, AgentJson.Default.AgentIdentity));
    }
}
