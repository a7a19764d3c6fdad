using Drawbridge.Contracts;
using Drawbridge.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

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

    private static JsonHttpResult<ProblemBody> Create(int status, string kind, string title, string detail, string code, string? target, Dictionary<string, string[]>? errors) =>
        TypedResults.Json(Body(status, kind, title, detail, code, target, errors), Contracts.DrawbridgeJson.Wire.ProblemBody, "application/problem+json", status);

    private static ValidationErrors Single(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return errors;
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : "Error.";
}
