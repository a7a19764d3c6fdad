using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Drawbridge.Contracts;

namespace Drawbridge.EndToEnd;

/// <summary>The real server process on loopback, serving HTTPS with a certificate configured the standard Kestrel way.</summary>
public sealed class HttpsTests : IDisposable
{
    private const string OwnerToken = "dbt_https-owner-token-0123456789abcdefghijklmnop";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-https").FullName;
    private LocalServer? _server;

    [Fact]
    public async Task Server_OnConfiguredCertificate_ServesTlsWithHstsAndSecurityHeaders()
    {
        var ct = TestContext.Current.CancellationToken;
        Requirements.Require(LocalServer.Published);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=drawbridge-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(_directory, "cert.pem"), certificate.ExportCertificatePem(), ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "key.pem"), key.ExportPkcs8PrivateKeyPem(), ct);

        _server = LocalServer.Start(_directory, "https", OwnerToken, new Dictionary<string, string>
        {
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(_directory, "cert.pem"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(_directory, "key.pem"),
        });

        // Trust exactly this certificate, as a client given the server's certificate would.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(_server.Url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OwnerToken);
        var response = await LocalServer.FirstAnswerAsync(() => client.GetAsync("/api/v1/whoami", ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = System.Text.Json.JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(ct), DrawbridgeJson.Wire.WhoAmI);
        Assert.Equal("Owner", Assert.Single(me!.Roles).Role);
        Assert.StartsWith("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());

        // A body without Content-Length (HttpClient sends JsonContent chunked) is read like any other: it was once
        // taken for no body, and the token silently got the defaults (1 use, 1 hour). In-process test hosts always
        // know the length, so only a real Kestrel shows this.
        using var chunked = System.Net.Http.Json.JsonContent.Create(new EnrollmentTokenCreateRequest { Uses = 3, Ttl = "10m" }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest);
        Assert.Null(chunked.Headers.ContentLength);
        var created = await client.PostAsync("/api/v1/enrollment-tokens", chunked, ct);
        var token = System.Text.Json.JsonSerializer.Deserialize(await created.Content.ReadAsStringAsync(ct), DrawbridgeJson.Wire.EnrollmentTokenCreated)!;
        Assert.Equal(3, token.Uses);
        Assert.True(token.ExpiresUtc - DateTimeOffset.UtcNow <= TimeSpan.FromMinutes(10));
    }

    public void Dispose()
    {
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
