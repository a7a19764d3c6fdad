namespace Drawbridge.Server.Bootstrap;

/// <summary>Facts about this installation that never change after first start; read once at start-up.</summary>
internal sealed class InstallationContext
{
    public const string DefaultResourceGroup = "default";

    private Guid? _subscriptionId;

    public Guid SubscriptionId => _subscriptionId ?? throw new InvalidOperationException("The installation has not been initialized yet.");

    public void Initialize(Guid subscriptionId) => _subscriptionId = subscriptionId;
}
