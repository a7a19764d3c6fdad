using Drawbridge.Server.Agents;

namespace Drawbridge.Server.Tests;

/// <summary>The in-process signal between a change's commit and the long-polls of its machines.</summary>
public sealed class MachineStateNotifierTests
{
    private readonly MachineStateNotifier notifier = new();
    private readonly Guid machine = Guid.NewGuid();

    [Fact]
    public async Task ASignalTakenBeforeAPublish_CompletesWithTheVersion_AndOneTakenAfterWaitsForTheNext()
    {
        var before = notifier.Signal(machine);
        notifier.Publish(new Dictionary<Guid, long> { [machine] = 7 });
        Assert.Equal(7, await before.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));

        var after = notifier.Signal(machine);
        Assert.False(after.IsCompleted);
        notifier.Publish(new Dictionary<Guid, long> { [Guid.NewGuid()] = 3 });
        Assert.False(after.IsCompleted);
        notifier.Publish(new Dictionary<Guid, long> { [machine] = 8 });
        Assert.Equal(8, await after.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Published_IsTheNewestVersion_EvenWhenPublishersFinishOutOfOrder()
    {
        // What a poll checks after taking its signal: a version published after authentication read the machine.
        Assert.Equal(0, notifier.Published(machine));
        notifier.Publish(new Dictionary<Guid, long> { [machine] = 9 });
        notifier.Publish(new Dictionary<Guid, long> { [machine] = 8 });
        Assert.Equal(9, notifier.Published(machine));
    }
}
