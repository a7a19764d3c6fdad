using System.Text.Json;
using System.Text.Json.Serialization;
using Drawbridge.IO;

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

    public void Save() => SecretFile.Write(FilePath, JsonSerializer.Serialize(this, CliJson.Default.ClientConfig));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ClientConfig))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>An expected failure: printed as one line, exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
