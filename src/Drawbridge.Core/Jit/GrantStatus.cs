namespace Drawbridge.Jit;

/// <summary>
/// Lifecycle of one granted port. Only <see cref="Approved"/> and <see cref="Active"/> grants are
/// enforced (appear in a machine's desired state); the last four states are terminal.
/// </summary>
public enum GrantStatus
{
    /// <summary>Waiting for an approver. Approval workflows are not built yet; no request enters this state today.</summary>
    PendingApproval,
    /// <summary>Accepted and published to the machine's desired state; the agent has not confirmed yet.</summary>
    Approved,
    /// <summary>The agent reported a state version that contains this grant: the port is open.</summary>
    Active,
    Expired,
    Revoked,
    Denied,
    Cancelled,
}

/// <summary>Why a grant ended, in Azure's vocabulary (statusReason).</summary>
public enum GrantEndReason
{
    Expired,
    UserRequested,
    NewerRequestInitiated,
}

public static class GrantLifecycle
{
    /// <summary>The enforced states; stores end grants with "WHERE Status IN Live", re-checking in the same statement.</summary>
    public static readonly GrantStatus[] Live = [GrantStatus.Approved, GrantStatus.Active];

    public static bool IsTerminal(this GrantStatus status) => status switch
    {
        GrantStatus.PendingApproval or GrantStatus.Approved or GrantStatus.Active => false,
        GrantStatus.Expired or GrantStatus.Revoked or GrantStatus.Denied or GrantStatus.Cancelled => true,
    };

    public static bool IsLive(this GrantStatus status) => status is GrantStatus.Approved or GrantStatus.Active;

    public static bool CanMove(GrantStatus from, GrantStatus to) => (from, to) switch
    {
        (GrantStatus.PendingApproval, GrantStatus.Approved or GrantStatus.Denied or GrantStatus.Cancelled) => true,
        (GrantStatus.Approved, GrantStatus.Active or GrantStatus.Expired or GrantStatus.Revoked) => true,
        (GrantStatus.Active, GrantStatus.Expired or GrantStatus.Revoked) => true,
        _ => false,
    };

    /// <summary>Azure's per-port status: anything not yet ended is "Initiated".</summary>
    public static string ToAzureStatus(this GrantStatus status) => status.IsTerminal() ? "Revoked" : "Initiated";

    public static string ToAzureReason(this GrantStatus status, GrantEndReason? reason) =>
        status.IsTerminal() ? (reason ?? GrantEndReason.UserRequested).ToString() : nameof(GrantEndReason.UserRequested);
}
