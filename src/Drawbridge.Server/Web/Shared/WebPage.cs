using Drawbridge.Server.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Drawbridge.Server.Web.Shared;

/// <summary>Renders the UI's Razor components as whole HTML pages, under a content security policy made for them.</summary>
internal static class WebPage
{
    /// <summary>Scripts, styles and images only from this server, no inline script or style, forms post only here.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static IResult Render<TPage>(object parameters, int status = StatusCodes.Status200OK) where TPage : IComponent =>
        new PageResult(new RazorComponentResult<TPage>(parameters) { StatusCode = status });

    /// <summary>
    /// The tab a query names (an enum member's name, any case; <paramref name="first"/> when none is named), or a 400
    /// page listing the tabs. A number is a tab only if it is a member's value: Enum.TryParse takes any number.
    /// </summary>
    public static (TEnum Tab, IResult? Unknown) Tab<TEnum>(Viewer viewer, string? value, TEnum first) where TEnum : struct, Enum =>
        Enum.TryParse<TEnum>(value ?? first.ToString(), ignoreCase: true, out var tab) && Enum.IsDefined(tab)
            ? (tab, null)
            : (first, Error(viewer, StatusCodes.Status400BadRequest, "Unknown tab", $"'{value}' is not one of {string.Join(", ", Enum.GetNames<TEnum>())}."));

    public static IResult Error(Viewer? viewer, int status, string title, string detail) =>
        Render<ErrorPage>(new { Viewer = viewer, Status = status, Title = title, Detail = detail }, status);

    public static IResult NotFound(Viewer viewer, string what) =>
        Error(viewer, StatusCodes.Status404NotFound, "Not found", $"{what} could not be found, or you may not see it.");

    /// <summary>An API handler's problem (a refusal, a conflict) as a page; anything else as it is.</summary>
    public static IResult FromProblem(Viewer viewer, IResult result) => result is Problems.ProblemResult problem
        ? Error(viewer, problem.Body.Status ?? 400, problem.Body.Title ?? "Error", problem.Body.Detail ?? "")
        : result;

    /// <summary>After a successful form post: 303, so reloading the next page does not post again.</summary>
    public static IResult SeeOther(string url) => new SeeOtherResult(url);

    private sealed class PageResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            httpContext.Response.Headers.CacheControl = "no-store";
            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed class SeeOtherResult(string url) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = url;
            return Task.CompletedTask;
        }
    }
}
