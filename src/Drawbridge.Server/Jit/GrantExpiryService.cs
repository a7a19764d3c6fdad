using Drawbridge.Authorization;
using Drawbridge.Jit;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Jit;

/// <summary>
/// Ends grants at their end time and publishes states without them. This is the second of two locks: the agent's
/// kernel timeouts already close the port on time even if this service (or the whole server) is down. State lives
/// in the database, so after a restart the first pass ends everything that expired meanwhile. The conditional
/// UPDATE makes concurrent passes on several replicas harmless.
/// </summary>
internal sealed partial class GrantExpiryService(
    IServiceScopeFactory scopes, MachineStateNotifier notifier, InstallationContext installation, TimeProvider time, ILogger<GrantExpiryService> logger)
    : BackgroundService
{
    /// <summary>Longest sleep between passes; also how soon grants made on other replicas are noticed.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(5);

    private TaskCompletionSource _wake = NewSignal();

    // UTC ticks of the next planned pass; MaxValue while a pass runs (or before the first), so any new grant wakes it.
    private long _nextPassTicks = long.MaxValue;

    /// <summary>
    /// Called after a grant ending at <paramref name="endTimeUtc"/> is written. Wakes the service only if that is
    /// before its next planned pass: a grant of minutes or hours is found by the passes that run anyway, and under a
    /// stream of initiates a pass for each one took an eighth of the server's CPU (bench/README.md, "Throughput").
    /// </summary>
    /// <returns>Whether the sleep was cut short.</returns>
    public bool Wake(DateTimeOffset endTimeUtc)
    {
        if (endTimeUtc.UtcTicks >= Volatile.Read(ref _nextPassTicks))
        {
            return false;
        }

        Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Both before the pass, so a grant written during the pass still wakes the next sleep.
            Volatile.Write(ref _nextPassTicks, long.MaxValue);
            var wake = Volatile.Read(ref _wake).Task;
            var sleep = MaxSleep;
            try
            {
                sleep = await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.PassFailed(logger, e);
            }

            Volatile.Write(ref _nextPassTicks, (time.GetUtcNow() + sleep).UtcTicks);
            try
            {
                await wake.WaitAsync(sleep, time, stoppingToken);
            }
            catch (TimeoutException)
            {
                // The next grant is due.
            }
        }
    }

    /// <summary>Ends every due grant and returns how long to sleep until the next one is due.</summary>
    public async Task<TimeSpan> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var now = time.GetUtcNow();

        var due = await db.Grants.AsNoTracking()
            .Where(g => GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc <= now)
            .OrderBy(g => g.EndTimeUtc)
            .Select(g => new { g.Id, g.MachineId, g.Port, g.Sources, g.RequestId })
            .Take(1000)
            .ToListAsync(ct);

        var touched = new Dictionary<Guid, long>();
        foreach (var machineGroup in due.GroupBy(g => g.MachineId))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var ids = machineGroup.Select(g => g.Id).ToList();
            var ended = await db.Grants
                .Where(g => ids.Contains(g.Id) && GrantLifecycle.Live.Contains(g.Status))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(g => g.Status, GrantStatus.Expired)
                    .SetProperty(g => g.EndReason, GrantEndReason.Expired)
                    .SetProperty(g => g.EndedBy, "system")
                    .SetProperty(g => g.EndedUtc, now), ct);
            if (ended == 0)
            {
                continue;
            }

            var version = await db.BumpAsync(machineGroup.Key, ct);
            foreach (var g in machineGroup)
            {
                audit.Record("system", Actions.JitRequestExpire, ArmIds.JitRequest(installation.SubscriptionId, g.RequestId), null, AuditLog.Allowed, $"port {g.Port} from {g.Sources} reached its end time");
            }

            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            touched[machineGroup.Key] = version;
        }

        notifier.Publish(touched);
        if (due.Count == 1000)
        {
            return TimeSpan.Zero;
        }

        var next = await db.Grants.AsNoTracking()
            .Where(g => GrantLifecycle.Live.Contains(g.Status))
            .OrderBy(g => g.EndTimeUtc)
            .Select(g => (DateTimeOffset?)g.EndTimeUtc)
            .FirstOrDefaultAsync(ct);
        var untilNext = next is null ? MaxSleep : next.Value - time.GetUtcNow();
        return untilNext < TimeSpan.Zero ? TimeSpan.Zero : untilNext > MaxSleep ? MaxSleep : untilNext;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Grant expiry pass failed; retrying")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
