using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Drawbridge.Server.Web.Shared;

/// <summary>
/// The UI's stylesheet and script, embedded in the server binary (no CDN, nothing to deploy beside it). URLs carry
/// the content hash, so a browser may cache them for a year and still never runs an old script after an upgrade.
/// </summary>
internal static class StaticAssets
{
    private sealed record Asset(byte[] Content, string ContentType, string Hash);

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    public static string Url(string name) => $"/assets/{name}?v={Assets[name].Hash}";

    public static IEndpointRouteBuilder MapStaticAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/assets/{name}", (string name, HttpContext http) =>
        {
            if (!Assets.TryGetValue(name, out var asset))
            {
                return Results.NotFound();
            }

            var etag = new EntityTagHeaderValue($"\"{asset.Hash}\"");
            http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            http.Response.Headers.ETag = etag.ToString();
            return http.Request.Headers.IfNoneMatch == etag.ToString()
                ? Results.StatusCode(StatusCodes.Status304NotModified)
                : Results.Bytes(asset.Content, asset.ContentType);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("assets/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var type = resource.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
            assets[resource["assets/".Length..]] = new Asset(content, type, Convert.ToHexStringLower(SHA256.HashData(content))[..16]);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
