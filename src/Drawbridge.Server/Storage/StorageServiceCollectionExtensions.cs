using Drawbridge.Server.Options;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Drawbridge.Server.Storage;

internal static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddDrawbridgeStorage(this IServiceCollection services, DrawbridgeOptions options)
    {
        // Pooled: every request, poll and report uses a context, and building one (its services, change tracker and
        // connection object) cost about half a millisecond each time (bench/README.md). A pooled context is reset when
        // its scope ends.
        // A list in a query is one parameter (json_each on SQLite, an array on PostgreSQL), not one parameter per item:
        // SQLite finds a named parameter by comparing it with every name of the statement, so binding a batch's list
        // of 256 items took 256 x 256 comparisons (bench/README.md, "Fan-out").
        switch (options.Database.Provider)
        {
            case DatabaseProvider.Sqlite:
                var connectionString = SqliteConnectionString(options);
                services.AddSingleton<SqliteWriteGate>().AddSingleton<SqliteConnectionLimit>().AddSingleton<SqliteConnectionSetup>();
                services.AddDbContextPool<DrawbridgeDbContext, SqliteDrawbridgeDbContext>((services, db) => db.UseSqlite(connectionString, sqlite => sqlite.UseParameterizedCollectionMode(ParameterTranslationMode.Parameter))
                    .AddInterceptors(services.GetRequiredService<SqliteConnectionLimit>(), services.GetRequiredService<SqliteWriteGate>(), services.GetRequiredService<SqliteConnectionSetup>()));
                break;
            case DatabaseProvider.PostgreSQL:
                services.AddDbContextPool<DrawbridgeDbContext, PostgresDrawbridgeDbContext>(db => db.UseNpgsql(options.Database.ConnectionString,
                    postgres => postgres.UseParameterizedCollectionMode(ParameterTranslationMode.Parameter)));
                break;
        }

        return services;
    }

    private static string SqliteConnectionString(DrawbridgeOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            return options.Database.ConnectionString;
        }

        var directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "drawbridge.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }
}

// Design-time factories: `dotnet ef migrations add X --context SqliteDrawbridgeDbContext` builds the model without a host.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteDrawbridgeDbContext>
{
    public SqliteDrawbridgeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteDrawbridgeDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresDrawbridgeDbContext>
{
    public PostgresDrawbridgeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresDrawbridgeDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
