using Drawbridge.Jit;
using Drawbridge.Posture;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Storage;

/// <summary>
/// The one store of Drawbridge state. Each database provider has a subclass only so that its migrations
/// (which differ in column types) can live side by side; the model itself is defined once, here.
/// </summary>
internal abstract class DrawbridgeDbContext(DbContextOptions options) : DbContext(options)
{
    // Compiled once: read by every save that appends audit events (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, CancellationToken, Task<AuditHead?>>> AuditChainHead =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, CancellationToken ct) =>
            db.AuditEvents.AsNoTracking().OrderByDescending(e => e.Sequence).Select(e => new AuditHead(e.Sequence, e.Hash)).FirstOrDefault()));

    public DbSet<Installation> Installations => Set<Installation>();
    public DbSet<ResourceGroup> ResourceGroups => Set<ResourceGroup>();
    public DbSet<Machine> Machines => Set<Machine>();
    public DbSet<JitPolicy> JitPolicies => Set<JitPolicy>();
    public DbSet<JitPolicyPort> JitPolicyPorts => Set<JitPolicyPort>();
    public DbSet<AccessRequest> AccessRequests => Set<AccessRequest>();
    public DbSet<Grant> Grants => Set<Grant>();
    public DbSet<User> Users => Set<User>();
    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<EnrollmentToken> EnrollmentTokens => Set<EnrollmentToken>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<SecurityGroup> SecurityGroups => Set<SecurityGroup>();
    public DbSet<SecurityGroupRule> SecurityGroupRules => Set<SecurityGroupRule>();
    public DbSet<SecurityGroupAttachment> SecurityGroupAttachments => Set<SecurityGroupAttachment>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored by name: readable in the database and safe against reordering.
        configurationBuilder.Properties<GrantStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<GrantEndReason>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<PortProtocol>().HaveConversion<string>().HaveMaxLength(8);
        configurationBuilder.Properties<NsgKind>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<RuleDirection>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<RuleAccess>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<string>().HaveMaxLength(1024);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Installation>().Property(i => i.Id).ValueGeneratedNever();
        modelBuilder.Entity<ResourceGroup>(rg =>
        {
            rg.HasKey(r => r.NameKey);
            rg.Property(r => r.Name).HaveMaxLengthOfName();
            rg.Property(r => r.NameKey).HaveMaxLengthOfName();
        });

        modelBuilder.Entity<Machine>(m =>
        {
            m.HasIndex(x => new { x.ResourceGroup, x.NameKey }).IsUnique();
            m.HasIndex(x => x.AgentCredentialHash).IsUnique();
            m.Property(x => x.Addresses).HasMaxLength(4096);
            m.Property(x => x.Name).HaveMaxLengthOfName();
            m.Property(x => x.NameKey).HaveMaxLengthOfName();
            m.Property(x => x.ResourceGroup).HaveMaxLengthOfName();
            m.Property(x => x.ImportedFrom).HasMaxLength(16);
            m.Property(x => x.ListeningPorts).HasMaxLength(64);
            m.Property(x => x.OtherInputFilters).HasMaxLength(4096);
        });

        modelBuilder.Entity<SecurityGroup>(g =>
        {
            g.HasIndex(x => new { x.ResourceGroup, x.NameKey }).IsUnique();
            g.HasMany(x => x.Rules).WithOne().HasForeignKey(r => r.GroupId).OnDelete(DeleteBehavior.Cascade);
            g.HasMany(x => x.Attachments).WithOne().HasForeignKey(a => a.GroupId).OnDelete(DeleteBehavior.Cascade);
            g.Property(x => x.Name).HaveMaxLengthOfName();
            g.Property(x => x.NameKey).HaveMaxLengthOfName();
            g.Property(x => x.ImportedFrom).HasMaxLength(16);
        });

        modelBuilder.Entity<SecurityGroupRule>(r =>
        {
            r.HasIndex(x => new { x.GroupId, x.Ordinal });
            r.Property(x => x.Name).HaveMaxLengthOfName();
            r.Property(x => x.Sources).HasMaxLength(Network.SecurityGroupMapping.MaxSourcesLength);
            r.Property(x => x.DestinationPorts).HasMaxLength(Network.SecurityGroupMapping.MaxPortsLength);
        });

        modelBuilder.Entity<SecurityGroupAttachment>(a =>
        {
            a.HasIndex(x => new { x.MachineId, x.GroupId }).IsUnique();
            a.HasOne<Machine>().WithMany().HasForeignKey(x => x.MachineId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<JitPolicy>(p =>
        {
            p.HasIndex(x => new { x.ResourceGroup, x.Location, x.NameKey }).IsUnique();
            p.HasMany(x => x.Ports).WithOne().HasForeignKey(x => x.PolicyId).OnDelete(DeleteBehavior.Cascade);
            p.Property(x => x.Name).HaveMaxLengthOfName();
            p.Property(x => x.NameKey).HaveMaxLengthOfName();
        });

        modelBuilder.Entity<JitPolicyPort>(p =>
        {
            p.HasIndex(x => new { x.MachineId, x.Number }).IsUnique();
            p.HasOne<Machine>().WithMany().HasForeignKey(x => x.MachineId).OnDelete(DeleteBehavior.Cascade);
            p.Property(x => x.AllowedSources).HasMaxLength(4096);
        });

        modelBuilder.Entity<AccessRequest>(r =>
        {
            r.HasMany(x => x.Grants).WithOne().HasForeignKey(g => g.RequestId).OnDelete(DeleteBehavior.Cascade);
            r.HasIndex(x => x.StartTimeUtc);
        });

        modelBuilder.Entity<Grant>(g =>
        {
            g.HasIndex(x => new { x.Status, x.EndTimeUtc });
            // A machine's live grants (its desired state, supersedes) by machine, status and end time. With only
            // (MachineId, Status), SQLite's planner preferred (Status, EndTimeUtc) and read every live grant of every
            // machine for each state it built.
            g.HasIndex(x => new { x.MachineId, x.Status, x.EndTimeUtc });
            g.HasIndex(x => new { x.Requestor, x.Status, x.EndTimeUtc });
            g.HasOne<Machine>().WithMany().HasForeignKey(x => x.MachineId).OnDelete(DeleteBehavior.Cascade);
            g.Property(x => x.Sources).HasMaxLength(4096);
        });

        modelBuilder.Entity<User>().HasIndex(u => u.Name).IsUnique();
        modelBuilder.Entity<RoleAssignment>().HasIndex(a => new { a.Principal, a.Role, a.Scope }).IsUnique();
        modelBuilder.Entity<ApiToken>().HasIndex(t => t.TokenHash).IsUnique();
        modelBuilder.Entity<ApiToken>().HasIndex(t => t.Principal);
        modelBuilder.Entity<EnrollmentToken>().HasIndex(t => t.TokenHash).IsUnique();
        modelBuilder.Entity<AuditEvent>(e =>
        {
            e.HasIndex(x => x.TimeUtc);
            e.HasIndex(x => x.Sequence).IsUnique();
            e.Property(x => x.PreviousHash).HasMaxLength(64);
            e.Property(x => x.Hash).HasMaxLength(64);
        });
    }

    /// <summary>
    /// Links every new audit event into the hash chain, in the same transaction as the change it records. Appends are
    /// serialized: SQLite's explicit transactions hold the write lock from BEGIN (IMMEDIATE), and PostgreSQL takes an
    /// advisory transaction lock (<see cref="LockAuditChainAsync"/>). The unique sequence is the last line of defence.
    /// </summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var added = ChangeTracker.Entries<AuditEvent>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (added.Count == 0)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }

        var ownTransaction = Database.CurrentTransaction is null ? await Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            await ChainAsync(added, cancellationToken);
            var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
            if (ownTransaction is not null)
            {
                await ownTransaction.CommitAsync(cancellationToken);
            }

            return saved;
        }
        finally
        {
            if (ownTransaction is not null)
            {
                await ownTransaction.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Gives <paramref name="events"/> their places in the hash chain, after its head; they must then be written in the
    /// current transaction (by <see cref="SaveChangesAsync(bool, CancellationToken)"/> or a direct insert).
    /// </summary>
    public async Task ChainAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        await LockAuditChainAsync(ct);
        var head = await AuditChainHead.For(this)(this, ct);
        var (sequence, previous) = head is null ? (0L, Drawbridge.Audit.AuditChain.Genesis) : (head.Sequence, head.Hash);
        foreach (var audit in events)
        {
            audit.Sequence = ++sequence;
            audit.TimeUtc = Drawbridge.Audit.AuditChain.Truncate(audit.TimeUtc);
            audit.PreviousHash = previous;
            audit.Hash = previous = Drawbridge.Audit.AuditChain.Hash(previous, audit.ToRecord());
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        throw new NotSupportedException("Drawbridge saves asynchronously only, so that every audit event is chained.");

    /// <summary>Serializes audit appends across connections until the transaction ends.</summary>
    protected virtual Task LockAuditChainAsync(CancellationToken ct) => Task.CompletedTask;

    private sealed record AuditHead(long Sequence, string Hash);
}

internal static class ModelBuilderExtensions
{
    public const int NameLength = 80;

    public static void HaveMaxLengthOfName(this Microsoft.EntityFrameworkCore.Metadata.Builders.PropertyBuilder<string> property) =>
        property.HasMaxLength(NameLength);
}

internal sealed class SqliteDrawbridgeDbContext(DbContextOptions<SqliteDrawbridgeDbContext> options) : DrawbridgeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);

        // SQLite has no date type and EF cannot compare DateTimeOffset text in SQL; as a binary long it orders
        // correctly because every value Drawbridge stores is UTC (offset zero).
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
    }
}

internal sealed class PostgresDrawbridgeDbContext(DbContextOptions<PostgresDrawbridgeDbContext> options) : DrawbridgeDbContext(options)
{
    /// <summary>Any fixed key; held until commit or rollback, shared by every replica using this database.</summary>
    private const long AuditChainLockKey = 0x44726177627264;

    protected override Task LockAuditChainAsync(CancellationToken ct) =>
        Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AuditChainLockKey})", ct);
}
