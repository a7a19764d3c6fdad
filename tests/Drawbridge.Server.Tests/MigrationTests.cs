using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

public class MigrationTests
{
    [Fact]
    public void Sqlite_MigrationsMatchTheModel()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --context SqliteDrawbridgeDbContext --output-dir Storage/Migrations/Sqlite");
    }

    [Fact]
    public void Postgres_MigrationsMatchTheModel()
    {
        using var db = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --context PostgresDrawbridgeDbContext --output-dir Storage/Migrations/Postgres");
    }
}
