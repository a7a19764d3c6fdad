namespace Drawbridge.Server.Http;

/// <summary>
/// ARM routes require ?api-version=; like Azure, a missing or unknown version is refused before anything else runs.
/// </summary>
internal sealed class ApiVersionFilter(params string[] supported) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var version = context.HttpContext.Request.Query["api-version"];
        if (version.Count == 0 || string.IsNullOrEmpty(version[0]))
        {
            return Problems.BadApiVersion("The api-version query parameter is required.", "MissingApiVersionParameter");
        }

        if (!supported.Contains(version[0], StringComparer.OrdinalIgnoreCase))
        {
            return Problems.BadApiVersion(
                $"The api-version '{version[0]}' is not supported. Supported versions: {string.Join(", ", supported)}.", "InvalidApiVersionParameter");
        }

        return await next(context);
    }
}

internal static class ApiVersions
{
    public static readonly string[] Security = ["2020-01-01"];

    /// <summary>Assessments: the version of the JIT API, and the one Azure's current SDKs call.</summary>
    public static readonly string[] Assessments = ["2020-01-01", "2021-06-01"];

    /// <summary>
    /// Network security groups did not change shape across these: 2026-01-01 is what @azure/arm-network 39 calls,
    /// 2022-07-01 what Debian's azure-mgmt-network 23 calls.
    /// </summary>
    public static readonly string[] Network =
    [
        "2026-01-01", "2025-07-01", "2025-05-01", "2025-03-01", "2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01",
        "2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01", "2022-11-01", "2022-09-01", "2022-07-01",
    ];
    public static readonly string[] Compute = ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01", "2023-07-01", "2023-03-01", "2022-11-01", "2022-08-01"];

    public static RouteGroupBuilder RequireApiVersion(this RouteGroupBuilder group, string[] supported)
    {
        group.AddEndpointFilter(new ApiVersionFilter(supported));
        return group;
    }
}
