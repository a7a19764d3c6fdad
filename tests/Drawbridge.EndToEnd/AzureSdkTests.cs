using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;

namespace Drawbridge.EndToEnd;

/// <summary>
/// Azure's own SDKs (JavaScript from npm, Python from Debian's python3-azure) drive the real server process over HTTPS
/// on loopback, with a certificate authority made for the run that the clients are told to trust. The scripts live in
/// tests/azure-sdk/; this class starts the server, enrolls a machine for them and checks that every SDK test passed.
/// </summary>
public sealed class AzureSdkTests : IAsyncLifetime
{
    private const string OwnerToken = "dbt_azure-sdk-owner-token-0123456789abcdefghijkl";
    private readonly string _directory = Directory.CreateTempSubdirectory("drawbridge-azure-sdk").FullName;
    private readonly string _sdkDirectory = Path.Combine(Lab.FindRoot(), "tests", "azure-sdk");
    private LocalServer? _server;
    private Dictionary<string, string> _environment = [];

    public async ValueTask InitializeAsync()
    {
        Requirements.Require(
            LocalServer.Published,
            (Directory.Exists(Path.Combine(_sdkDirectory, "node_modules", "@azure", "arm-security")), "tests/azure-sdk/node_modules (./test.sh runs npm ci)"),
            (Directory.Exists("/usr/lib/python3/dist-packages/azure/mgmt/security"), "Debian's python3-azure (scripts/prerequisites.sh installs it)"),
            (File.Exists("/usr/bin/openssl"), "openssl"));

        Shell.Check(Path.Combine(_sdkDirectory, "make-cert.sh"), _directory);
        _server = LocalServer.Start(_directory, "https", OwnerToken, new Dictionary<string, string>
        {
            ["Drawbridge__Limits__PageSize"] = "2",
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(_directory, "cert.pem"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(_directory, "key.pem"),
        });
        var endpoint = _server.Url;

        // The harness itself trusts the test CA only, as the SDKs are told to.
        var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_directory, "ca.pem"));
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                return chain.Build(presented!);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(endpoint) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OwnerToken);
        var me = await LocalServer.FirstAnswerAsync(() => client.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI));

        // A machine for the policies: enrolled through the agent channel, as an agent would.
        var created = await client.PostAsJsonAsync("/api/v1/enrollment-tokens", new EnrollmentTokenCreateRequest { Uses = 1, Ttl = "10m" }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.EnrollmentTokenCreated))!.Token;
        var enrolled = await client.PostAsJsonAsync("/agent/v1/enroll", new AgentEnrollRequest { Token = token, Name = "sdk-vm", Addresses = ["127.0.0.1"] },
            DrawbridgeJson.Wire.AgentEnrollRequest);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);

        _environment = new Dictionary<string, string>
        {
            ["DRAWBRIDGE_ENDPOINT"] = endpoint,
            ["DRAWBRIDGE_TOKEN"] = OwnerToken,
            ["DRAWBRIDGE_SUBSCRIPTION"] = me!.SubscriptionId!,
            ["DRAWBRIDGE_VM_ID"] = $"/subscriptions/{me.SubscriptionId}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/sdk-vm",
            ["NODE_EXTRA_CA_CERTS"] = Path.Combine(_directory, "ca.pem"),
            ["REQUESTS_CA_BUNDLE"] = Path.Combine(_directory, "ca.pem"),
        };
    }

    [Fact]
    public void JavaScriptSdk_ArmSecurityAndArmNetwork_Pass()
    {
        var (exit, output, error) = Shell.Run("node", ["--test", "--test-reporter=tap", Path.Combine(_sdkDirectory, "jit.test.mjs")], _environment, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"node --test failed ({exit}):\n{output}\n{error}");
        Assert.Contains("# pass 4", output, StringComparison.Ordinal);
        Assert.Contains("# fail 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public void PythonSdk_AzureMgmtSecurityNetworkAndCompute_Pass()
    {
        var (exit, output, error) = Shell.Run("/usr/bin/python3", [Path.Combine(_sdkDirectory, "test_python_sdk.py")], _environment, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"python3 failed ({exit}):\n{output}\n{error}");
        Assert.Contains("Ran 5 tests", error, StringComparison.Ordinal);
        Assert.EndsWith("OK", error.Trim(), StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
