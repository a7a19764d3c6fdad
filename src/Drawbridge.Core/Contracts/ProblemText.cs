using System.Net.Http.Json;
using System.Text.Json;

namespace Drawbridge.Contracts;

public static class ProblemText
{
    /// <summary>The one line a person should read from an error response: the problem's detail, else the status.</summary>
    public static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.ProblemBody, ct);
            if (problem?.Detail is { Length: > 0 } detail)
            {
                return detail;
            }
        }
        catch (JsonException)
        {
            // Not a problem document; fall back to the status line.
        }

        return $"{(int)response.StatusCode} {response.ReasonPhrase}";
    }
}
