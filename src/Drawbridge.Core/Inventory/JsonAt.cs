using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drawbridge.Inventory;

/// <summary>Malformed or unknown inventory input: the message names the file and the JSON path.</summary>
public sealed class InventoryException(string message) : Exception(message);

/// <summary>A JSON node with the file and path it came from, so that every complaint can name both.</summary>
internal readonly record struct JsonAt(JsonNode? Node, string File, string Path)
{
    public static JsonAt Parse(string text, string file)
    {
        try
        {
            return new JsonAt(JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }), file, "$");
        }
        catch (JsonException e)
        {
            throw new InventoryException($"{file}: not valid JSON ({e.Message})");
        }
    }

    public bool Exists => Node is not null;

    public JsonAt this[string property] => Node is JsonObject obj
        ? new(obj[property], File, $"{Path}.{property}")
        : new(null, File, $"{Path}.{property}");

    public IEnumerable<JsonAt> Items(bool required = false)
    {
        switch (Node)
        {
            case JsonArray array:
                var (file, path) = (File, Path);
                return array.Select((item, i) => new JsonAt(item, file, $"{path}[{i}]"));
            case null when !required:
                return [];
            default:
                throw Error(Node is null ? "is missing (expected an array)" : "expected an array");
        }
    }

    public string? Text(bool required = false)
    {
        if (Node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        return Node is null && !required ? null : throw Error(Node is null ? "is missing (expected a string)" : "expected a string");
    }

    public int? Number(bool required = false)
    {
        if (Node is JsonValue value && value.TryGetValue<int>(out var number))
        {
            return number;
        }

        if (Node is JsonValue text && text.TryGetValue<string>(out var s) && int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        return Node is null && !required ? null : throw Error(Node is null ? "is missing (expected a number)" : "expected a number");
    }

    /// <summary>A string, or the strings of an array (Azure's "sourceAddressPrefix" / "sourceAddressPrefixes" pairs).</summary>
    public List<string> Texts() => Node is JsonArray ? Items().Select(i => i.Text(required: true)!).ToList() : Text() is { Length: > 0 } one ? [one] : [];

    public InventoryException Error(string message) => new($"{File}: {Path}: {message}");
}
