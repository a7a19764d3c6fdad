using System.Diagnostics;
using System.Text.Json;
using Drawbridge.Contracts;

namespace Drawbridge.Agent.Sync;

/// <summary>
/// A desired state and when it arrived. "Now" for grant timeouts is the later of two clocks: the server's clock at
/// send time plus this process's monotonic time since, and this host's wall clock. The first keeps a slow host clock
/// from stretching a grant; the second covers the delivery delay the first cannot see. Either way a grant ends by
/// whichever clock says so first: never late.
/// </summary>
internal sealed class ReceivedState(DesiredState state, long receivedTimestamp)
{
    public DesiredState State { get; } = state;

    public static ReceivedState Now(DesiredState state) => new(state, Stopwatch.GetTimestamp());

    public DateTimeOffset ServerNow()
    {
        var server = State.ServerTimeUtc + Stopwatch.GetElapsedTime(receivedTimestamp);
        var local = DateTimeOffset.UtcNow;
        return server > local ? server : local;
    }

    public PersistedState ToPersisted() => new() { State = State, ReceivedUtc = DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(receivedTimestamp) };

    /// <summary>After a restart only the wall clock links then and now; it is the best there is.</summary>
    public static ReceivedState FromPersisted(PersistedState persisted)
    {
        var elapsed = DateTimeOffset.UtcNow - persisted.ReceivedUtc;
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        return new ReceivedState(persisted.State!, Stopwatch.GetTimestamp() - (long)(elapsed.TotalSeconds * Stopwatch.Frequency));
    }
}

internal sealed class PersistedState
{
    public const string FileName = "state.json";

    public DesiredState? State { get; set; }
    public DateTimeOffset ReceivedUtc { get; set; }

    public static PersistedState? Load(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), AgentJson.Default.PersistedState) : null;
        }
        catch (JsonException)
        {
            // A damaged file is no state at all: the agent waits for the server, the boot rules keep ports closed.
            return null;
        }
    }

    public void Save(string stateDirectory) =>
        Drawbridge.IO.SecretFile.Write(Path.Combine(stateDirectory, FileName), JsonSerializer.Serialize(this, AgentJson.Default.PersistedState));
}
