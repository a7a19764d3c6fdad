using System.Diagnostics;
using System.Net;
using Drawbridge.Agent.Host;
using Drawbridge.Agent.Nftables;
using Drawbridge.Contracts;
using Microsoft.Extensions.Logging;

namespace Drawbridge.Agent.Sync;

/// <summary>
/// Keeps the host's firewall equal to the server's desired state: long-polls for new versions, applies each whole
/// state, reports the version, and repairs drift. Without the server it keeps enforcing what it has; kernel
/// timeouts still end every grant on time, so losing the server can only take access away (fail closed).
/// </summary>
internal sealed partial class AgentLoop(ServerClient server, IFirewall firewall, string stateDirectory, TimeSpan driftInterval, ILogger logger) : IDisposable
{
    // Short: after a server restart every pending request waits for its agent to reconnect. Jitter spreads a fleet's retries.
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _pollGate = new();
    private CancellationTokenSource? _poll;
    private ReceivedState? _current;
    private AgentAppliedReport? _unsentReport;
    private string? _reportedSurvey;
    private long _lastSurvey;

    /// <summary>Listeners and other firewalls change rarely; listing the whole ruleset every drift tick would be waste.</summary>
    private static readonly TimeSpan SurveyInterval = TimeSpan.FromSeconds(30);

    public async Task RunAsync(string backend, CancellationToken ct)
    {
        Log.Backend(logger, backend);
        if (PersistedState.Load(stateDirectory) is { State: not null } persisted)
        {
            // Restore what the server last said, so drift is repaired even while the server is unreachable.
            await ApplyAsync(ReceivedState.FromPersisted(persisted), driftRepaired: false, ct);
        }

        await Task.WhenAll(PollLoopAsync(ct), DriftLoopAsync(ct));
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>
    /// Polls for the next state; the report of the last one (or of a repair or a survey) rides the poll, so a state a
    /// fleet receives costs each agent two requests, not three. A report made while a poll waits cuts that wait short
    /// (<see cref="WakePoll"/>), so it is sent at once.
    /// </summary>
    private async Task PollLoopAsync(CancellationToken ct)
    {
        var backoff = FirstBackoff;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await PollOnceAsync(ct) is { } state)
                {
                    await ApplyAsync(ReceivedState.Now(state), driftRepaired: false, ct);
                }

                backoff = FirstBackoff;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
            {
                var delay = backoff * (0.75 + (Random.Shared.NextDouble() / 2));
                Log.ServerUnreachable(logger, e.Message, Math.Round(delay.TotalSeconds, 2));
                await Task.Delay(delay, ct);
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }
        }
    }

    /// <summary>
    /// One poll, carrying the report not yet sent; null when the server had nothing new, or when a newer report woke
    /// it (the next poll carries that one). Only the request itself can be woken: applying what it brought is not.
    /// </summary>
    private async Task<DesiredState?> PollOnceAsync(CancellationToken ct)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lock (_pollGate)
        {
            _poll = poll;
        }

        // Read after the poll is registered: a report made from here on wakes this poll.
        var report = Volatile.Read(ref _unsentReport);
        try
        {
            var state = await server.PollAsync(_current?.State.Version ?? 0, report, poll.Token);
            Interlocked.CompareExchange(ref _unsentReport, null, report);
            return state;
        }
        catch (OperationCanceledException) when (poll.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return null;
        }
        catch (HttpRequestException e) when (report is not null && e.StatusCode == HttpStatusCode.BadRequest)
        {
            // The server refused the report itself: a version it never published, as when it was restored from an
            // older copy. Sent again it would be refused again, and the poll it rides with it, for good: it is
            // dropped, and the next poll brings the server's state, which is then applied and reported.
            Interlocked.CompareExchange(ref _unsentReport, null, report);
            Log.ReportRefused(logger, report.Version, e.Message);
            return null;
        }
        finally
        {
            lock (_pollGate)
            {
                _poll = null;
            }
        }
    }

    /// <summary>Ends the poll that is waiting, if any, so that the report just made is sent now instead of after the hold.</summary>
    private void WakePoll()
    {
        lock (_pollGate)
        {
            _poll?.Cancel();
        }
    }

    private async Task DriftLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(driftInterval);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                // Check and repair under the same lock as apply, against the state current at that moment:
                // judging the table by an older state would "repair" a newer grant away.
                await _gate.WaitAsync(ct);
                try
                {
                    if (_current is { } current && await firewall.FindDriftAsync(current.State, current.ServerNow(), ct) is { } drift)
                    {
                        Log.DriftFound(logger, drift);
                        await ApplyLockedAsync(current, driftRepaired: true, ct);
                    }
                }
                finally
                {
                    _gate.Release();
                }

                await ReportSurveyIfChangedAsync(ct);
            }
            catch (Exception e) when (e is NftException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                Log.DriftCheckFailed(logger, e.Message);
            }
        }
    }

    private async Task ApplyAsync(ReceivedState received, bool driftRepaired, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await ApplyLockedAsync(received, driftRepaired, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ApplyLockedAsync(ReceivedState received, bool driftRepaired, CancellationToken ct)
    {
        string? error = null;
        try
        {
            await firewall.ApplyAsync(received.State, received.ServerNow(), ct);
            Log.Applied(logger, received.State.Version, received.State.ProtectedPorts.Count, received.State.Grants.Count);
        }
        catch (NftException e)
        {
            error = e.Message;
            Log.ApplyFailed(logger, received.State.Version, e.Message);
        }

        if (error is null)
        {
            _current = received;
            received.ToPersisted().Save(stateDirectory);
        }

        // A survey still waiting to be sent rides along instead of being replaced.
        _unsentReport = new AgentAppliedReport
        {
            Version = received.State.Version, Error = error, DriftRepaired = driftRepaired,
            ListeningPorts = _unsentReport?.ListeningPorts, OtherInputFilters = _unsentReport?.OtherInputFilters,
        };
        WakePoll();
    }

    /// <summary>
    /// Listeners and other tables change without a new state, so the host is surveyed from the drift loop (at most every
    /// <see cref="SurveyInterval"/>) and a change is reported with the version already applied; never on the apply path,
    /// where every millisecond delays a grant.
    /// </summary>
    private async Task ReportSurveyIfChangedAsync(CancellationToken ct)
    {
        if (_lastSurvey != 0 && Stopwatch.GetElapsedTime(_lastSurvey) < SurveyInterval)
        {
            return;
        }

        // Surveyed outside the lock; recorded under it, and only when no apply report is waiting (never replace one).
        _lastSurvey = Stopwatch.GetTimestamp();
        var (listening, filters) = await SurveyAsync(ct);
        var survey = Describe(listening, filters);
        await _gate.WaitAsync(ct);
        try
        {
            if (_current is { } current && _unsentReport is null && survey != _reportedSurvey)
            {
                _reportedSurvey = survey;
                _unsentReport = new AgentAppliedReport { Version = current.State.Version, ListeningPorts = listening, OtherInputFilters = filters };
                WakePoll();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(List<int> Listening, List<string> Filters)> SurveyAsync(CancellationToken ct)
    {
        try
        {
            return (HostSurvey.ListeningManagementPorts(), await firewall.OtherInputFiltersAsync(ct));
        }
        catch (Exception e) when (e is NftException or System.Text.Json.JsonException or IOException)
        {
            // Not knowing is reported as nothing seen; enforcement does not depend on it.
            Log.SurveyFailed(logger, e.Message);
            return ([], []);
        }
    }

    private static string Describe(List<int> listening, List<string> filters) => string.Join(',', listening) + "|" + string.Join('\n', filters);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Applied state version {Version}: {Ports} protected port(s), {Grants} grant element(s)")]
        public static partial void Applied(ILogger logger, long version, int ports, int grants);

        [LoggerMessage(2, LogLevel.Error, "Could not apply state version {Version}: {Error}")]
        public static partial void ApplyFailed(ILogger logger, long version, string error);

        [LoggerMessage(3, LogLevel.Warning, "Drift found, repairing: {Drift}")]
        public static partial void DriftFound(ILogger logger, string drift);

        [LoggerMessage(4, LogLevel.Warning, "Server unreachable ({Error}); enforcing the last state, retrying in {Seconds} s")]
        public static partial void ServerUnreachable(ILogger logger, string error, double seconds);

        [LoggerMessage(5, LogLevel.Warning, "Drift check failed: {Error}")]
        public static partial void DriftCheckFailed(ILogger logger, string error);

        [LoggerMessage(6, LogLevel.Information, "Enforcing with {Backend}")]
        public static partial void Backend(ILogger logger, string backend);

        [LoggerMessage(7, LogLevel.Warning, "Could not survey the host (listeners, other nftables tables): {Error}")]
        public static partial void SurveyFailed(ILogger logger, string error);

        [LoggerMessage(8, LogLevel.Warning, "The server refused the report of state version {Version}, which is dropped: {Error}")]
        public static partial void ReportRefused(ILogger logger, long version, string error);
    }
}
