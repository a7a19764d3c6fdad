using System.Net;
using Drawbridge.Net;
using Drawbridge.Server.Options;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;

namespace Drawbridge.Server.Http;

internal static class HttpPipeline
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
        return services;
    }

    public static WebApplication UseDrawbridgeHttp(this WebApplication app)
    {
        app.UseForwardedHeaders();

        // Unhandled exceptions and framework-made errors (bad route values, 404, 405) become problem details too;
        // stack traces only in Development.
        app.UseExceptionHandler(error => error.Run(async http =>
        {
            var exception = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            var result = exception is BadHttpRequestException bad
                ? Problems.Status(bad.StatusCode, bad.Message)
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
        return app;
    }
}
