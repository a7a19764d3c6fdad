using System.Threading.Channels;
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
/// Writes agents' applied reports, many to one transaction. A change to a group or policy reaches up to a thousand
/// agents at once and each reports back within milliseconds; with a durable transaction per report, every other writer
/// (an initiate, the next change) queued behind a thousand commits (bench/README.md, "Fan-out"). Reports that arrive
/// while a batch is written go into the next one. Each caller is answered only once its report has committed, so an
/// acknowledged report is never lost.
/// </summary>
internal sealed partial class AppliedReportWriter(IServiceScopeFactory scopes, ILogger<AppliedReportWriter> logger) : BackgroundService
{
    /// <summary>Enough to take a whole group's reports in a few commits, small enough to keep each transaction short.</summary>
    public const int MaxBatch = 256;

    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Completes once <paramref name="report"/> is committed.</summary>
    public async Task WriteAsync(AppliedReport report, CancellationToken ct)
    {
        var pending = new Pending(report);
        if (!queue.Writer.TryWrite(pending))
        {
            throw new OperationCanceledException("The server is stopping.");
        }

        await pending.Written.Task.WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                await WriteBatchAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        finally
        {
            // Stopping: nothing more is taken, and whoever still waits is told their report was not written.
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var left))
            {
                batch.Add(left);
            }

            batch.ForEach(p => p.Written.TrySetCanceled(CancellationToken.None));
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch, CancellationToken ct)
    {
        try
        {
            await WriteTogetherAsync(batch, ct);
            batch.ForEach(p => p.Written.TrySetResult());
        }
        catch (Exception e) when (batch.Count > 1 && e is not OperationCanceledException)
        {
            // One report that cannot be written must not fail the others: each is retried alone, so only its own
            // caller sees the error.
            Log.BatchFailed(logger, batch.Count, e);
            foreach (var pending in batch)
            {
                await WriteBatchAsync([pending], ct);
            }
        }
        catch (Exception e)
        {
            batch.ForEach(p => p.Written.TrySetException(e));
        }
    }

    private async Task WriteTogetherAsync(List<Pending> batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var report in batch.Select(p => p.Report))
        {
            await WriteOneAsync(db, audit, report, ct);
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
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

    private sealed class Pending(AppliedReport report)
    {
        public AppliedReport Report { get; } = report;

        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Writing {Count} agent reports together failed; writing each alone")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);
    }
}
