using System.Net;
using System.Net.Sockets;

namespace Drawbridge.EndToEnd;

/// <summary>
/// The published server as a real process on loopback, on a free port, its data and log in the test's directory:
/// for end-to-end tests that need no lab network (HTTPS, Azure's SDKs, OIDC in a browser).
/// </summary>
internal sealed class LocalServer : IDisposable
{
    private readonly LabProcess _process;

    private LocalServer(LabProcess process, string url) => (_process, Url) = (process, url);

    public static string Dll => Path.Combine(Lab.ArtifactsDirectory, "server", "drawbridge-server.dll");

    public static (bool Met, string What) Published => (File.Exists(Dll), $"{Dll} (./test.sh publishes it)");

    public string Url { get; }

    public static LocalServer Start(string directory, string scheme, string ownerToken, IDictionary<string, string>? settings = null)
    {
        var url = $"{scheme}://127.0.0.1:{FreePort()}";
        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["Drawbridge__DataDirectory"] = Path.Combine(directory, "data"),
            ["Drawbridge__Bootstrap__OwnerToken"] = ownerToken,
        };
        return new LocalServer(LabProcess.StartLocal(Path.Combine(directory, "server.log"), environment, "dotnet", Dll, "--urls", url), url);
    }

    /// <summary>The first answer to <paramref name="call"/> once the server takes connections (it starts in a second or two).</summary>
    public static async Task<T> FirstAnswerAsync<T>(Func<Task<T>> call)
    {
        T? answer = default;
        await Lab.WaitForAsync(() =>
        {
            try
            {
                answer = call().GetAwaiter().GetResult();
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the server to answer");
        return answer!;
    }

    public void Dispose() => _process.Dispose();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
