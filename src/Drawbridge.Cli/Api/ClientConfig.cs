using System.Text.Json;
using System.Text.Json.Serialization;

namespace Drawbridge.Cli.Api;

/// <summary>Where `drawbridge login` keeps the server and token: ~/.config/drawbridge/config.json, mode 0600.</summary>
internal sealed class ClientConfig
{
    public required string Server { get; set; }
    public required string Token { get; set; }
    public required string SubscriptionId { get; set; }

    /// <summary>DRAWBRIDGE_CONFIG points elsewhere, for several identities or for tests.</summary>
    public static string FilePath =>
        Environment.GetEnvironmentVariable("DRAWBRIDGE_CONFIG") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "drawbridge", "config.json");

    public static ClientConfig Load()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            throw new CliException("not logged in; run 'drawbridge login --server URL --token TOKEN' first.");
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CliJson.Default.ClientConfig) ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw new CliException($"{path} is damaged; run 'drawbridge login' again.");
        }
    }

    public void Save()
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, this, CliJson.Default.ClientConfig);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ClientConfig))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>An expected failure: printed as one line, exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
