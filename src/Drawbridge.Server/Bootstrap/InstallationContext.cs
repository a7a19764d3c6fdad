namespace Drawbridge.Server.Bootstrap;

/// <summary>Facts about this installation that never change after first start; read once at start-up.</summary>
internal sealed class InstallationContext
{
    public const string DefaultResourceGroup = "default";

    private Guid? _subscriptionId;

    public Guid SubscriptionId => _subscriptionId ?? throw new InvalidOperationException("The installation has not been initialized yet.");

    /// <summary>The location every machine of this installation reports (Drawbridge:Location).</summary>
    public string Location { get; private set; } = "local";

    public void Initialize(Guid subscriptionId, string location)
    {
        _subscriptionId = subscriptionId;
        Location = location;
    }
}
