using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Drawbridge.Server.Http;

/// <summary>
/// Reads a JSON body ourselves instead of letting the framework bind it, so that malformed JSON and wrong
/// types come back as a problem naming the JSON path, never as an empty 400 or a 500.
/// </summary>
internal static class JsonBody
{
    public const long MaxBytes = 256 * 1024;

    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken ct, long maxBytes = MaxBytes)
        where T : class
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {maxBytes} bytes."));
        }

        if (!request.HasJsonContentType())
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON (Content-Type: application/json)."));
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, ct);
            return value is null ? (null, Problems.Validation("$", "a JSON object is required")) : (value, null);
        }
        catch (JsonException e)
        {
            var path = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
            return (null, Problems.Validation(path.TrimStart('$', '.') is { Length: > 0 } p ? p : "$", "is not valid JSON for this field"));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problems.Status(e.StatusCode, e.Message));
        }
    }
}
