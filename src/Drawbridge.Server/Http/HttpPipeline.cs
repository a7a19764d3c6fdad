using System.Net;
using Drawbridge.Net;
using Drawbridge.Server.Options;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;

namespace Drawbridge.Server.Http;

internal static class RateLimits
{
    public const string Initiate = "initiate";
    public const string Enroll = "enroll";
    public const string Login = "login";
}

internal static partial class HttpPipeline
{
    public static IServiceCollection AddDrawbridgeHttp(this IServiceCollection services, DrawbridgeOptions options)
    {
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            // Only the configured proxies may tell us who the client is; by default nobody can.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in options.TrustedProxies)
            {
                var prefix = IpPrefix.Parse(proxy);
                forwarded.KnownIPNetworks.Add(new System.Net.IPNetwork(prefix.Address, prefix.Length));
            }
        });
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = JsonBody.MaxBytes);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        // HSTS on every HTTPS answer, loopback included: a JIT server is never meant to be reached over plain HTTP once TLS is on.
        services.AddHsts(hsts =>
        {
            hsts.MaxAge = TimeSpan.FromDays(365);
            hsts.ExcludedHosts.Clear();
        });
        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.TooManyRequests($"Too many requests; try again in {Math.Ceiling(retry.TotalSeconds)} s.").ExecuteAsync(context.HttpContext);
            };
            limiter.AddPolicy(RateLimits.Initiate, http => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                http.User.Identity?.Name ?? http.Connection.RemoteIpAddress?.ToString() ?? "",
                _ => Window(options.Limits.InitiatePerMinute)));
            limiter.AddPolicy(RateLimits.Enroll, http => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "",
                _ => Window(options.Limits.EnrollPerMinute)));
            limiter.AddPolicy(RateLimits.Login, http => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "",
                _ => Window(options.Limits.LoginPerMinute)));
        });
        return services;
    }

    private static System.Threading.RateLimiting.FixedWindowRateLimiterOptions Window(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };

    public static WebApplication UseDrawbridgeHttp(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseHsts();
        app.Use((context, next) =>
        {
            // An API never needs to be framed, sniffed or to load anything.
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "no-referrer";
            return next();
        });

        // Unhandled exceptions and framework-made errors (bad route values, 404, 405) become problem details too;
        // stack traces only in Development.
        app.UseExceptionHandler(error => error.Run(async http =>
        {
            var exception = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            var result = exception is BadHttpRequestException bad
                ? Problems.Status(bad.StatusCode, bad.Message)
                : IsConcurrentConflict(exception)
                ? Problems.Conflict("A concurrent change to the same resource was saved first; nothing of this request was saved. Read it again and retry.")
                : Problems.Status(StatusCodes.Status500InternalServerError,
                    app.Environment.IsDevelopment() && exception is not null ? exception.ToString() : "An unexpected error occurred; it has been logged.");
            await result.ExecuteAsync(http);
        }));
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.ContentLength is null && !http.Response.HasStarted && string.IsNullOrEmpty(http.Response.ContentType))
            {
                var detail = http.Response.StatusCode switch
                {
                    StatusCodes.Status404NotFound => $"No resource or operation at {http.Request.Path}.",
                    StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
                    _ => ((HttpStatusCode)http.Response.StatusCode).ToString(),
                };
                await Problems.Status(http.Response.StatusCode, detail).ExecuteAsync(http);
            }
        });

        // Azure's SDKs put a scope parameter that starts with '/' after a '/' ("//subscriptions/..."), and Azure
        // accepts that; so does Drawbridge, by collapsing repeated slashes before routing (hence UseRouting here).
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value;
            if (path is not null && path.Contains("//", StringComparison.Ordinal))
            {
                context.Request.Path = new PathString(RepeatedSlashes().Replace(path, "/"));
            }

            return next(context);
        });
        app.UseRouting();
        return app;
    }

    [System.Text.RegularExpressions.GeneratedRegex("/{2,}")]
    private static partial System.Text.RegularExpressions.Regex RepeatedSlashes();

    /// <summary>
    /// Two requests writing the same resource at once: the database's unique index refuses the second create, or the
    /// rows the second replace meant to delete are already gone. Its transaction rolled back, so 409 is the honest
    /// answer, not 500.
    /// </summary>
    private static bool IsConcurrentConflict(Exception? exception) => exception is Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException
        or Microsoft.EntityFrameworkCore.DbUpdateException
        {
            InnerException: Npgsql.PostgresException { SqlState: "23505" or "40001" } or Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: 2067 or 1555 },
        };
}
