using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Drawbridge.Contracts;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Drawbridge.Server.Tests;

/// <summary>
/// The real server in-process over a real database, with a fake clock. Requests may carry X-Test-Remote-Address
/// to play a client at that address (TestServer has no sockets).
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string OwnerToken = "dbt_test-owner-token-0123456789abcdefghijklmnop";
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly WebApplicationFactory<Program> _factory;

    private TestServer(WebApplicationFactory<Program> factory, FakeTimeProvider time, string dataDirectory, Dictionary<string, string?> settings)
    {
        _factory = factory;
        Time = time;
        DataDirectory = dataDirectory;
        Settings = settings;
        Owner = Client(OwnerToken);
    }

    public FakeTimeProvider Time { get; }
    public IServiceProvider Services => _factory.Services;
    public string DataDirectory { get; }
    public Dictionary<string, string?> Settings { get; }
    public HttpClient Owner { get; }
    public string SubscriptionId { get; private set; } = "";
    public string Sub => $"/subscriptions/{SubscriptionId}";
    public string PolicyPath(string name = "default") => $"{Sub}/resourceGroups/default/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/{name}";
    public string VmId(string name) => $"{Sub}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/{name}";

    public static async Task<TestServer> StartAsync(ITestDatabase database, Dictionary<string, string?>? extra = null, TestServer? previous = null)
    {
        var directory = previous?.DataDirectory ?? Directory.CreateTempSubdirectory("drawbridge-server-test").FullName;
        // Extra settings first, so the defaults below fill in only what a test did not set.
        var settings = previous?.Settings ?? await database.CreateAsync(directory);
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        settings["Drawbridge:DataDirectory"] = directory;
        settings["Drawbridge:Bootstrap:OwnerToken"] = OwnerToken;
        settings.TryAdd("Drawbridge:Jit:MinimumRequestDuration", "1s");
        settings.TryAdd("Drawbridge:Agent:LongPollTimeout", "5s");
        settings.TryAdd("Drawbridge:TrustedProxies:0", "192.0.2.10");
        settings.TryAdd("Drawbridge:Limits:InitiatePerMinute", "100000");
        settings.TryAdd("Drawbridge:Limits:EnrollPerMinute", "100000");

        var time = new FakeTimeProvider(previous?.Time.GetUtcNow() ?? new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }

            web.UseSetting("Logging:LogLevel:Default", "Warning");
            web.ConfigureServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(time);
                services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, RemoteAddressFilter>();
            });
        });
        var server = new TestServer(factory, time, directory, settings);
        var me = await server.Owner.GetFromJsonAsync("/api/v1/whoami", DrawbridgeJson.Wire.WhoAmI);
        server.SubscriptionId = me!.SubscriptionId!;
        return server;
    }

    public HttpClient Client(string? token, string? remoteAddress = null)
    {
        var client = _factory.CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (remoteAddress is not null)
        {
            client.DefaultRequestHeaders.Add(RemoteAddressHeader, remoteAddress);
        }

        return client;
    }

    /// <summary>A client that keeps cookies and shows redirects instead of following them, as a test of pages needs.</summary>
    public HttpClient Browser(string? remoteAddress = null)
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        if (remoteAddress is not null)
        {
            client.DefaultRequestHeaders.Add(RemoteAddressHeader, remoteAddress);
        }

        return client;
    }

    public async Task<T> DbAsync<T>(Func<DrawbridgeDbContext, Task<T>> query)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>());
    }

    public Task<TimeSpan> RunExpiryAsync() => _factory.Services.GetRequiredService<GrantExpiryService>().RunOnceAsync(CancellationToken.None);

    /// <summary>
    /// A user holding <paramref name="role"/> at <paramref name="scope"/> (default: the subscription), and a token for
    /// them, written straight to the store so tests of other features do not depend on the identity API.
    /// </summary>
    public async Task<string> CreateUserTokenAsync(string principal, string? role, string? scope = null)
    {
        var token = Secrets.Create(Secrets.UserTokenPrefix);
        var now = Time.GetUtcNow();
        await DbAsync(async db =>
        {
            if (!await db.Users.AnyAsync(u => u.Name == principal))
            {
                db.Users.Add(new User { Id = Guid.NewGuid(), Name = principal, CreatedUtc = now, CreatedBy = "test" });
            }

            if (role is not null)
            {
                db.RoleAssignments.Add(new RoleAssignment { Id = Guid.NewGuid(), Principal = principal, Role = role, Scope = (scope ?? Sub).ToLowerInvariant(), CreatedUtc = now, CreatedBy = "test" });
            }

            db.ApiTokens.Add(new ApiToken { Id = Guid.NewGuid(), Principal = principal, TokenHash = Secrets.Hash(token), CreatedUtc = now });
            return await db.SaveChangesAsync();
        });
        return token;
    }

    /// <summary>Enrolls an agent for a machine and returns a client that speaks with its credential.</summary>
    public async Task<(HttpClient Agent, string Credential)> EnrollAsync(string name, params string[] addresses)
    {
        var created = await Owner.PostAsJsonAsync("/api/v1/enrollment-tokens", new EnrollmentTokenCreateRequest { Uses = 1 }, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.EnrollmentTokenCreated))!.Token;
        var response = await Client(null).PostAsJsonAsync("/agent/v1/enroll", new AgentEnrollRequest { Token = token, Name = name, Addresses = [.. addresses] }, DrawbridgeJson.Wire.AgentEnrollRequest);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var enrolled = (await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.AgentEnrollResponse))!;
        return (Client(enrolled.Credential), enrolled.Credential);
    }

    public Task<HttpResponseMessage> PutPolicyAsync(string json, string name = "default") =>
        Owner.PutAsync($"{PolicyPath(name)}?api-version=2020-01-01", Json(json));

    public async Task EnableJitAsync(string machine, string portsJson = """[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]""")
    {
        var response = await PutPolicyAsync($$$"""{"properties":{"virtualMachines":[{"id":"{{{VmId(machine)}}}","ports":{{{portsJson}}}}]}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public Task<HttpResponseMessage> InitiateAsync(HttpClient client, string portsJson, string machine = "h1") =>
        client.PostAsync($"{PolicyPath()}/initiate?api-version=2020-01-01", Json($$$"""{"virtualMachines":[{"id":"{{{VmId(machine)}}}","ports":{{{portsJson}}}}],"justification":"test"}"""));

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Owner.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>Deletes the data directory; call when the test no longer restarts the server.</summary>
    public void DeleteData()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // Closing SQLite's last connection checkpoints and removes the -wal/-shm files, which can race the delete
        // ("Directory not empty" seen once in ~10 runs); a short bounded retry settles it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(100 * attempt);
            }
        }
    }

    private sealed class RemoteAddressFilter : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteAddressHeader, out var value))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(value.ToString());
                }

                return nextMiddleware();
            });
            next(app);
        };
    }
}
