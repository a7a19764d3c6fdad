using System.Data.Common;
using Drawbridge.Authorization;
using Drawbridge.Jit;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Storage;

namespace Drawbridge.Server.Agents;

/// <summary>What one agent reported, checked and ready to write.</summary>
/// <param name="Version">The version the agent applied.</param>
/// <param name="Error">Why it could not apply it; null when it did.</param>
/// <param name="ListeningPorts">Comma-separated management ports seen listening; null when the agent did not look.</param>
/// <param name="OtherInputFilters">Other input-hook chains that can drop traffic, one a line; null when not looked at.</param>
internal sealed record AppliedReport(
    Guid MachineId, string Scope, string Actor, string? Source, DateTimeOffset TimeUtc,
    long Version, string? Error, bool DriftRepaired, string? ListeningPorts, string? OtherInputFilters);

/// <summary>
/// Writes agents' applied reports, many to one transaction (<see cref="Batched{TItem, TResult}"/>). A change to a
/// group or policy reaches up to a thousand agents at once and each reports back within milliseconds; with a durable
/// transaction per report, every other writer (an initiate, the next change) queued behind a thousand commits
/// (bench/README.md, "Fan-out"). The result is always true: a report that cannot be written fails its caller instead.
/// </summary>
internal sealed class AppliedReportWriter(IServiceScopeFactory scopes, ILogger<AppliedReportWriter> logger)
    : Batched<AppliedReport, bool>(logger, MaxBatch)
{
    /// <summary>Enough to take a whole group's reports in a few commits, small enough to keep each transaction short.</summary>
    public const int MaxBatch = 256;

    /// <summary>Completes once the report is committed.</summary>
    public Task<bool> WriteAsync(AppliedReport report, CancellationToken ct) => RunBatchedAsync(report, ct);

    protected override async Task<IReadOnlyList<bool>> RunTogetherAsync(IReadOnlyList<AppliedReport> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        await using var tx = await db.Database.BeginTransactionAsync();

        // Each statement is one command for the whole batch: SQLite compiles a command's text once, not per report.
        await using var machine = DirectStatements.Command(db);
        machine.CommandText = MachineUpdate;
        await using var grants = DirectStatements.Command(db);
        grants.CommandText = GrantsActivation;
        foreach (var report in batch)
        {
            await WriteOneAsync(db, audit, machine, grants, report, CancellationToken.None);
        }

        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return Enumerable.Repeat(true, batch.Count).ToArray();
    }

    // Single conditional statements: the version may be bumped concurrently by an initiate, and reports may arrive out
    // of order, so nothing here may overwrite a newer value with an older one. Direct commands
    // (Storage/DirectStatements): as ExecuteUpdate calls EF Core translated both again for every report, ten thousand
    // of them for a change reaching ten thousand agents.
    private const string MachineUpdate = """
        UPDATE "Machines" SET "AppliedVersion" = CASE WHEN "AppliedVersion" > @applied THEN "AppliedVersion" ELSE @applied END,
            "AgentLastError" = @error, "ListeningPorts" = COALESCE(@listening, "ListeningPorts"),
            "OtherInputFilters" = COALESCE(@filters, "OtherInputFilters"), "AgentLastSeenUtc" = @seen
        WHERE "Id" = @id
        """;

    // Grants published in this version or earlier are now enforced by the host: they become Active.
    private const string GrantsActivation = """
        UPDATE "Grants" SET "Status" = @active
        WHERE "MachineId" = @machine AND "Status" = @approved AND "PublishedVersion" <= @version
        """;

    private static async Task WriteOneAsync(DrawbridgeDbContext db, AuditLog audit, DbCommand machine, DbCommand grants, AppliedReport report, CancellationToken ct)
    {
        var applied = report.Error is null ? report.Version : 0;
        machine.Parameters.Clear();
        machine.Parameters.AddRange((DbParameter[])[
            db.Parameter<Machine>(machine, nameof(Machine.AppliedVersion), "@applied", applied),
            db.Parameter<Machine>(machine, nameof(Machine.AgentLastError), "@error", report.Error),
            db.Parameter<Machine>(machine, nameof(Machine.ListeningPorts), "@listening", report.ListeningPorts),
            db.Parameter<Machine>(machine, nameof(Machine.OtherInputFilters), "@filters", report.OtherInputFilters),
            db.Parameter<Machine>(machine, nameof(Machine.AgentLastSeenUtc), "@seen", report.TimeUtc),
            db.Parameter<Machine>(machine, nameof(Machine.Id), "@id", report.MachineId),
        ]);
        await machine.ExecuteNonQueryAsync(ct);

        var activated = 0;
        if (report.Error is null)
        {
            grants.Parameters.Clear();
            grants.Parameters.AddRange((DbParameter[])[
                db.Parameter<Grant>(grants, nameof(Grant.Status), "@active", GrantStatus.Active),
                db.Parameter<Grant>(grants, nameof(Grant.MachineId), "@machine", report.MachineId),
                db.Parameter<Grant>(grants, nameof(Grant.Status), "@approved", GrantStatus.Approved),
                db.Parameter<Grant>(grants, nameof(Grant.PublishedVersion), "@version", report.Version),
            ]);
            activated = await grants.ExecuteNonQueryAsync(ct);
        }

        if (activated > 0 || report.Error is not null || report.DriftRepaired)
        {
            var reason = report.Error ?? (report.DriftRepaired
                ? $"drift repaired; applied version {report.Version}"
                : $"applied version {report.Version}; {activated} grant(s) active");
            audit.Record(report.Actor, Actions.AgentApply, report.Scope, report.Source, report.Error is null ? AuditLog.Allowed : AuditLog.Refused, reason);
        }
    }
}
