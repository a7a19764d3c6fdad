namespace Drawbridge.Server.Http;

/// <summary>
/// Reads an HTML form body for the pages, as <see cref="JsonBody"/> does for JSON: a body the framework cannot parse
/// (no multipart boundary, more than 1,024 fields, a cut-off section) is a 400 problem, never a 500.
/// </summary>
internal static class FormBody
{
    public static async Task<(IFormCollection? Form, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > JsonBody.MaxBytes)
        {
            return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {JsonBody.MaxBytes} bytes."));
        }

        if (!request.HasFormContentType)
        {
            return (null, Problems.Validation("form", "send the form (application/x-www-form-urlencoded or multipart/form-data)"));
        }

        try
        {
            return (await request.ReadFormAsync(ct), null);
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problems.Status(e.StatusCode, e.Message));
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return (null, Problems.Validation("form", $"the form could not be read: {e.Message}"));
        }
    }
}
