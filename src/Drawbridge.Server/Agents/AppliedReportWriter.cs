using Drawbridge.Authorization;
using Drawbridge.Jit;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

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
/// Writes agents' applied reports, many to one transaction (<see cref="BatchWriter{TItem, TResult}"/>). A change to a
/// group or policy reaches up to a thousand agents at once and each reports back within milliseconds; with a durable
/// transaction per report, every other writer (an initiate, the next change) queued behind a thousand commits
/// (bench/README.md, "Fan-out"). The result is always true: a report that cannot be written fails its caller instead.
/// </summary>
internal sealed class AppliedReportWriter(IServiceScopeFactory scopes, ILogger<AppliedReportWriter> logger)
    : BatchWriter<AppliedReport, bool>(logger, MaxBatch)
{
    /// <summary>Enough to take a whole group's reports in a few commits, small enough to keep each transaction short.</summary>
    public const int MaxBatch = 256;

    protected override async Task<IReadOnlyList<bool>> WriteTogetherAsync(IReadOnlyList<AppliedReport> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var report in batch)
        {
            await WriteOneAsync(db, audit, report, CancellationToken.None);
        }

        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return Enumerable.Repeat(true, batch.Count).ToArray();
    }

    private static async Task WriteOneAsync(DrawbridgeDbContext db, AuditLog audit, AppliedReport report, CancellationToken ct)
    {
        var applied = report.Error is null ? report.Version : 0;

        // Single conditional statements: the version may be bumped concurrently by an initiate, and reports may arrive
        // out of order, so nothing here may overwrite a newer value with an older one.
        await db.Machines.Where(m => m.Id == report.MachineId).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.AppliedVersion, m => m.AppliedVersion > applied ? m.AppliedVersion : applied)
            .SetProperty(m => m.AgentLastError, report.Error)
            .SetProperty(m => m.ListeningPorts, m => report.ListeningPorts ?? m.ListeningPorts)
            .SetProperty(m => m.OtherInputFilters, m => report.OtherInputFilters ?? m.OtherInputFilters)
            .SetProperty(m => m.AgentLastSeenUtc, report.TimeUtc), ct);
        var activated = 0;
        if (report.Error is null)
        {
            // Grants published in this version or earlier are now enforced by the host: they become Active.
            activated = await db.Grants
                .Where(g => g.MachineId == report.MachineId && g.Status == GrantStatus.Approved && g.PublishedVersion <= report.Version)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.Status, GrantStatus.Active), ct);
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
