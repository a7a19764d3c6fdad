using Drawbridge.Jit;

namespace Drawbridge.Core.Tests;

public class GrantLifecycleTests
{
    public static TheoryData<GrantStatus, GrantStatus, bool> Moves => new()
    {
        { GrantStatus.PendingApproval, GrantStatus.Approved, true },
        { GrantStatus.PendingApproval, GrantStatus.Denied, true },
        { GrantStatus.PendingApproval, GrantStatus.Cancelled, true },
        { GrantStatus.PendingApproval, GrantStatus.Active, false },
        { GrantStatus.Approved, GrantStatus.Active, true },
        { GrantStatus.Approved, GrantStatus.Expired, true },
        { GrantStatus.Approved, GrantStatus.Revoked, true },
        { GrantStatus.Approved, GrantStatus.Denied, false },
        { GrantStatus.Active, GrantStatus.Expired, true },
        { GrantStatus.Active, GrantStatus.Revoked, true },
        { GrantStatus.Active, GrantStatus.Approved, false },
        { GrantStatus.Expired, GrantStatus.Active, false },
        { GrantStatus.Revoked, GrantStatus.Active, false },
        { GrantStatus.Expired, GrantStatus.Revoked, false },
        { GrantStatus.Denied, GrantStatus.Approved, false },
        { GrantStatus.Cancelled, GrantStatus.Approved, false },
    };

    [Theory]
    [MemberData(nameof(Moves))]
    public void CanMove_FollowsTheLifecycle(GrantStatus from, GrantStatus to, bool allowed) =>
        Assert.Equal(allowed, GrantLifecycle.CanMove(from, to));

    [Fact]
    public void TerminalStates_HaveNoWayOut()
    {
        foreach (var from in Enum.GetValues<GrantStatus>().Where(s => s.IsTerminal()))
        {
            Assert.All(Enum.GetValues<GrantStatus>(), to => Assert.False(GrantLifecycle.CanMove(from, to)));
        }
    }

    /// <summary>The stores' "WHERE Status IN Live" for revoke and expiry must match the lifecycle exactly.</summary>
    [Theory]
    [InlineData(GrantStatus.Revoked)]
    [InlineData(GrantStatus.Expired)]
    public void Live_IsExactlyTheStatesThatCanBeEnded(GrantStatus end) =>
        Assert.Equal(GrantLifecycle.Live, Enum.GetValues<GrantStatus>().Where(from => GrantLifecycle.CanMove(from, end)));

    [Theory]
    [InlineData(GrantStatus.Approved, null, "Initiated", "UserRequested")]
    [InlineData(GrantStatus.Active, null, "Initiated", "UserRequested")]
    [InlineData(GrantStatus.Expired, GrantEndReason.Expired, "Revoked", "Expired")]
    [InlineData(GrantStatus.Revoked, GrantEndReason.NewerRequestInitiated, "Revoked", "NewerRequestInitiated")]
    [InlineData(GrantStatus.Revoked, GrantEndReason.UserRequested, "Revoked", "UserRequested")]
    public void AzureMapping_UsesAzureVocabulary(GrantStatus status, GrantEndReason? reason, string azureStatus, string azureReason)
    {
        Assert.Equal(azureStatus, status.ToAzureStatus());
        Assert.Equal(azureReason, status.ToAzureReason(reason));
    }
}
