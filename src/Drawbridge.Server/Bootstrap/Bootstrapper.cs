using Drawbridge.Authorization;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Bootstrap;

/// <summary>
/// Brings the database to the current schema and, on the very first start, creates the subscription, the
/// default resource group, an Owner token and a one-time agent enrollment token, and prints the secrets once.
/// Several replicas may start at once against PostgreSQL: the installation row's fixed key makes only one win.
/// </summary>
internal static partial class Bootstrapper
{
    public const string OwnerPrincipal = "owner";

    public static async Task InitializeDrawbridgeAsync(this WebApplication app, CancellationToken ct = default)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<DrawbridgeOptions>>().Value;
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Drawbridge.Bootstrap");

        if (db.Database.IsSqlite())
        {
            // WAL lets the API read while the scheduler writes.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }

        await db.Database.MigrateAsync(ct);

        var installation = await db.Installations.AsNoTracking().SingleOrDefaultAsync(ct);
        var firstStart = installation is null;
        var printed = new List<string>();
        if (installation is null)
        {
            installation = await CreateInstallationAsync(db, time, printed, options, ct);
        }

        if (options.Bootstrap.OwnerToken is { } configured)
        {
            var hash = Secrets.Hash(configured);
            if (!await db.ApiTokens.AnyAsync(t => t.TokenHash == hash, ct))
            {
                db.ApiTokens.Add(new ApiToken
                {
                    Id = Guid.NewGuid(),
                    Principal = OwnerPrincipal,
                    TokenHash = hash,
                    Description = "Drawbridge:Bootstrap:OwnerToken",
                    CreatedUtc = time.GetUtcNow(),
                });
                await EnsureOwnerAsync(db, installation.SubscriptionId, time.GetUtcNow(), ct);
                await db.SaveChangesAsync(ct);
            }
        }

        app.Services.GetRequiredService<InstallationContext>().Initialize(installation.SubscriptionId);
        Log.Started(logger, installation.SubscriptionId, options.Database.Provider.ToString(), firstStart);
        if (printed.Count > 0)
        {
            // Printed to the console, not the log: these secrets are shown once and must not end up in log storage.
            Console.Out.WriteLine(string.Join(Environment.NewLine, printed));
        }
    }

    private static async Task<Installation> CreateInstallationAsync(DrawbridgeDbContext db, TimeProvider time, List<string> printed, DrawbridgeOptions options, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var installation = new Installation { Id = 1, SubscriptionId = Guid.NewGuid(), CreatedUtc = now };
        db.Installations.Add(installation);
        db.ResourceGroups.Add(new ResourceGroup { Name = InstallationContext.DefaultResourceGroup, NameKey = InstallationContext.DefaultResourceGroup });

        AddOwner(db, installation.SubscriptionId, now, user: true, assignment: true);
        string? ownerToken = null;
        if (options.Bootstrap.OwnerToken is null)
        {
            ownerToken = Secrets.Create(Secrets.UserTokenPrefix);
            db.ApiTokens.Add(new ApiToken
            {
                Id = Guid.NewGuid(),
                Principal = OwnerPrincipal,
                TokenHash = Secrets.Hash(ownerToken),
                Description = "created at first start",
                CreatedUtc = now,
            });
        }

        var enrollmentToken = Secrets.Create(Secrets.EnrollmentTokenPrefix);
        db.EnrollmentTokens.Add(new EnrollmentToken
        {
            Id = Guid.NewGuid(),
            TokenHash = Secrets.Hash(enrollmentToken),
            UsesLeft = 1,
            ExpiresUtc = now.AddDays(1),
            CreatedBy = "bootstrap",
            CreatedUtc = now,
        });
        db.AuditEvents.Add(new AuditEvent
        {
            TimeUtc = now,
            Actor = "system",
            Action = Actions.Bootstrap,
            Scope = $"/subscriptions/{installation.SubscriptionId}",
            Result = AuditLog.Allowed,
            Reason = "first start",
        });

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another replica initialized the installation first: use theirs, print nothing.
            db.ChangeTracker.Clear();
            return await db.Installations.AsNoTracking().SingleAsync(ct);
        }

        printed.Add("Drawbridge first start. These secrets are shown once; store them now.");
        printed.Add($"  subscription:     {installation.SubscriptionId}");
        if (ownerToken is not null)
        {
            printed.Add($"  owner API token:  {ownerToken}");
            printed.Add("                    drawbridge login --server <URL> --token <owner API token>");
        }

        printed.Add($"  enrollment token: {enrollmentToken}   (one agent, 24 hours)");
        printed.Add("                    drawbridge-agent enroll --server <URL> --token <enrollment token>");
        return installation;
    }

    /// <summary>
    /// The user "owner", holding Owner at the subscription: whoever holds a bootstrap token can run everything. Checked
    /// when a newly configured bootstrap token is added; removing the role later is respected like any removal.
    /// </summary>
    private static async Task EnsureOwnerAsync(DrawbridgeDbContext db, Guid subscription, DateTimeOffset now, CancellationToken ct)
    {
        var scope = AccessScope.Subscription(subscription).Key;
        var owner = BuiltInRoles.Owner.Name;
        AddOwner(db, subscription, now,
            user: !await db.Users.AnyAsync(u => u.Name == OwnerPrincipal, ct),
            assignment: !await db.RoleAssignments.AnyAsync(a => a.Principal == OwnerPrincipal && a.Role == owner && a.Scope == scope, ct));
    }

    private static void AddOwner(DrawbridgeDbContext db, Guid subscription, DateTimeOffset now, bool user, bool assignment)
    {
        if (user)
        {
            db.Users.Add(new User { Id = Guid.NewGuid(), Name = OwnerPrincipal, DisplayName = "Installation owner", CreatedUtc = now, CreatedBy = "bootstrap" });
        }

        if (assignment)
        {
            db.RoleAssignments.Add(new RoleAssignment
            {
                Id = Guid.NewGuid(), Principal = OwnerPrincipal, Role = BuiltInRoles.Owner.Name, Scope = AccessScope.Subscription(subscription).Key, CreatedUtc = now, CreatedBy = "bootstrap",
            });
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Drawbridge subscription {SubscriptionId} on {Provider} (first start: {FirstStart})")]
        public static partial void Started(ILogger logger, Guid subscriptionId, string provider, bool firstStart);
    }
}
