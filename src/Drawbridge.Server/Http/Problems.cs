using Drawbridge.Contracts;
using Drawbridge.Validation;

namespace Drawbridge.Server.Http;

/// <summary>
/// Every error Drawbridge returns: RFC 7807 problem details with a stable <c>type</c>, per-field <c>errors</c>,
/// and Azure's <c>error</c> envelope beside them so Azure SDKs surface the same message.
/// </summary>
internal static class Problems
{
    public const string TypePrefix = "urn:drawbridge:problem:";

    public static IResult Validation(ValidationErrors errors, string title = "The request is invalid.")
    {
        var first = errors.Items[0];
        return Create(StatusCodes.Status400BadRequest, "validation", title, $"{first.Field}: {first.Message}", "InvalidParameter",
            first.Field, errors.ToDictionary().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
    }

    public static IResult Validation(string field, string message) =>
        Validation(Single(field, message));

    public static IResult NotFound(string what, string code = "ResourceNotFound") =>
        Create(StatusCodes.Status404NotFound, "not-found", "Not found.", what, code, null, null);

    public static IResult Conflict(string detail, string? field = null) =>
        Create(StatusCodes.Status409Conflict, "conflict", "Conflict.", detail, "Conflict", field,
            field is null ? null : new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [detail] });

    public static IResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication required.", detail, "AuthenticationFailed", null, null);

    public static IResult Forbidden(string detail) =>
        Create(StatusCodes.Status403Forbidden, "forbidden", "Forbidden.", detail, "AuthorizationFailed", null, null);

    public static IResult TooManyRequests(string detail) =>
        Create(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests.", detail, "TooManyRequests", null, null);

    public static IResult BadApiVersion(string detail, string code) =>
        Create(StatusCodes.Status400BadRequest, "api-version", "Unsupported api-version.", detail, code, "api-version", null);

    public static IResult Status(int status, string detail) =>
        Create(status, $"http-{status}", ReasonPhrase(status), detail, status == 404 ? "ResourceNotFound" : $"Http{status}", null, null);

    public static ProblemBody Body(int status, string kind, string title, string detail, string code, string? target, Dictionary<string, string[]>? errors) => new()
    {
        Type = TypePrefix + kind,
        Title = title,
        Status = status,
        Detail = detail,
        Errors = errors,
        Error = new AzureError { Code = code, Message = detail, Target = target },
    };

    private static ProblemResult Create(int status, string kind, string title, string detail, string code, string? target, Dictionary<string, string[]>? errors) =>
        new(Body(status, kind, title, detail, code, target, errors));

    /// <summary>
    /// The body is the same everywhere; its media type is not. Azure's SDKs parse an error body only when it is
    /// labelled application/json (as Azure labels it), so the ARM routes under /subscriptions/ say that, and
    /// Drawbridge's own routes say application/problem+json.
    /// </summary>
    internal sealed class ProblemResult(ProblemBody body) : IResult, IStatusCodeHttpResult
    {
        /// <summary>For the web pages, which show a refusal or invalid field as HTML instead.</summary>
        public ProblemBody Body => body;

        public int? StatusCode => body.Status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var arm = httpContext.Request.Path.StartsWithSegments("/subscriptions", StringComparison.OrdinalIgnoreCase);
            return TypedResults.Json(body, Contracts.DrawbridgeJson.Wire.ProblemBody, arm ? "application/json" : "application/problem+json", body.Status).ExecuteAsync(httpContext);
        }
    }

    private static ValidationErrors Single(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return errors;
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : "Error.";
}
