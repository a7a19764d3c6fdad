using Npgsql;

namespace Drawbridge.Server.Tests;

/// <summary>A fresh, empty database per test server: a new SQLite file, or a new PostgreSQL database.</summary>
public interface ITestDatabase
{
    string Provider { get; }

    /// <summary>Settings that point a server at a new empty database (and its data directory).</summary>
    Task<Dictionary<string, string?>> CreateAsync(string dataDirectory);
}

public sealed class SqliteDatabase : ITestDatabase
{
    public string Provider => "Sqlite";

    public Task<Dictionary<string, string?>> CreateAsync(string dataDirectory) =>
        Task.FromResult(new Dictionary<string, string?> { ["Drawbridge:Database:Provider"] = "Sqlite" });
}

/// <summary>
/// Databases on the PostgreSQL server named by DRAWBRIDGE_TEST_POSTGRES (test.sh starts one). Without it the
/// tests are skipped, unless DRAWBRIDGE_REQUIRE_POSTGRES=1 (set by test.sh and CI) turns that into a failure.
/// </summary>
public sealed class PostgresDatabase : ITestDatabase
{
    public string Provider => "PostgreSQL";

    public async Task<Dictionary<string, string?>> CreateAsync(string dataDirectory)
    {
        var server = Environment.GetEnvironmentVariable("DRAWBRIDGE_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("DRAWBRIDGE_REQUIRE_POSTGRES") != "1", "DRAWBRIDGE_TEST_POSTGRES is not set");
            Assert.Fail("DRAWBRIDGE_REQUIRE_POSTGRES=1 but DRAWBRIDGE_TEST_POSTGRES is not set");
        }

        var name = $"drawbridge_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        return new Dictionary<string, string?>
        {
            ["Drawbridge:Database:Provider"] = "PostgreSQL",
            ["Drawbridge:Database:ConnectionString"] = builder.ConnectionString,
        };
    }
}
