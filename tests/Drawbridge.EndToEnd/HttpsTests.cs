using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Drawbridge.Contracts;

namespace Drawbridge.EndToEnd;

/// <summary>The real server process on loopback, serving HTTPS with a certificate configured the standard Kestrel way.</summary>
public sealed class HttpsTests : IDisposable
{
    private const string OwnerToken = "dbt_https-owner-token-0123456789abcdefghijklmnop";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-https").FullName;
    private LabProcess? _server;

    [Fact]
    public async Task Server_OnConfiguredCertificate_ServesTlsWithHstsAndSecurityHeaders()
    {
        var ct = TestContext.Current.CancellationToken;
        var serverDll = Path.Combine(Environment.GetEnvironmentVariable("DRAWBRIDGE_ARTIFACTS") is { Length: > 0 } a ? a : Path.Combine(Lab.FindRoot(), "artifacts"), "server", "drawbridge-server.dll");
        if (!File.Exists(serverDll))
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("DRAWBRIDGE_REQUIRE_ROOT_TESTS") != "1", $"{serverDll} is not published (./test.sh publishes it)");
            Assert.Fail($"{serverDll} is missing");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=drawbridge-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(_directory, "cert.pem"), certificate.ExportCertificatePem(), ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "key.pem"), key.ExportPkcs8PrivateKeyPem(), ct);

        var port = FreePort();
        _server = LabProcess.StartLocal(Path.Combine(_directory, "server.log"), new Dictionary<string, string>
        {
            ["Drawbridge__DataDirectory"] = Path.Combine(_directory, "data"),
            ["Drawbridge__Bootstrap__OwnerToken"] = OwnerToken,
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(_directory, "cert.pem"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(_directory, "key.pem"),
        }, "dotnet", serverDll, "--urls", $"https://127.0.0.1:{port}");

        // Trust exactly this certificate, as a client given the server's certificate would.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OwnerToken);

        HttpResponseMessage? response = null;
        await Lab.WaitForAsync(() =>
        {
            try
            {
                response = client.GetAsync("/api/v1/whoami", ct).GetAwaiter().GetResult();
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the HTTPS server");

        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
