using Drawbridge.Authorization;

namespace Drawbridge.Core.Tests;

public sealed class AuthorizationTests
{
    private static readonly Guid Sub = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly AccessScope Subscription = AccessScope.Subscription(Sub);
    private static readonly AccessScope Blue = AccessScope.ResourceGroup(Sub, "Blue");
    private static readonly AccessScope B1 = AccessScope.VirtualMachine(Sub, "blue", "B1");
    private static readonly AccessScope Red = AccessScope.ResourceGroup(Sub, "red");

    [Theory]
    [InlineData("*", "Microsoft.Security/locations/jitNetworkAccessPolicies/write", true)]
    [InlineData("*/read", "Microsoft.Compute/virtualMachines/read", true)]
    [InlineData("*/read", "Microsoft.Compute/virtualMachines/readers/write", false)]
    [InlineData("Microsoft.Security/*", "microsoft.security/locations/jitNetworkAccessPolicies/initiate/action", true)]
    [InlineData("Microsoft.Security/*", "Microsoft.SecurityInsights/x/read", false)]
    [InlineData("Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/read", true)]
    [InlineData("Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/write", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXcYYb", false)]
    public void ActionPattern_MatchesAzureWildcards(string pattern, string action, bool matches) =>
        Assert.Equal(matches, ActionPattern.Matches(pattern, action));

    [Theory]
    [InlineData("Owner", Actions.RoleAssignmentWrite, true)]
    [InlineData("Owner", Actions.AgentStateRead, false)]
    [InlineData("JitAdministrator", Actions.JitPolicyWrite, true)]
    [InlineData("JitAdministrator", Actions.JitRequestRevoke, true)]
    [InlineData("JitAdministrator", Actions.RoleAssignmentWrite, false)]
    [InlineData("JitAdministrator", Actions.TokenWrite, false)]
    [InlineData("JitRequester", Actions.JitInitiate, true)]
    [InlineData("JitRequester", Actions.JitPolicyWrite, false)]
    [InlineData("JitRequester", Actions.JitRequestRead, false)]
    [InlineData("JitRequester", Actions.AuditRead, false)]
    [InlineData("SecurityReader", Actions.AuditRead, true)]
    [InlineData("SecurityReader", Actions.JitInitiate, false)]
    [InlineData("SecurityReader", Actions.UserWrite, false)]
    [InlineData("Approver", Actions.JitRequestRead, true)]
    [InlineData("Approver", Actions.JitPolicyDelete, false)]
    [InlineData("Agent", Actions.AgentApply, true)]
    [InlineData("Agent", Actions.VirtualMachineRead, false)]
    public void BuiltInRoles_GrantWhatDesignSays(string role, string action, bool granted) =>
        Assert.Equal(granted, BuiltInRoles.Find(role)!.Grants(action));

    [Theory]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555", ScopeLevel.Subscription)]
    [InlineData("/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/resourcegroups/Blue/", ScopeLevel.ResourceGroup)]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/blue/providers/Microsoft.Compute/virtualMachines/b1", ScopeLevel.VirtualMachine)]
    public void Scope_ParsesTheThreeLevels(string text, ScopeLevel level)
    {
        Assert.True(AccessScope.TryParse(text, out var scope));
        Assert.Equal(level, scope.Level);
        Assert.Equal(scope.Key, scope.Key.ToLowerInvariant());
        Assert.DoesNotContain("//", scope.Key, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("/subscriptions/not-a-guid")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/..")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/a b")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/blue/providers/Microsoft.Network/networkSecurityGroups/n")]
    [InlineData("subscriptions/11111111-2222-3333-4444-555555555555")]
    public void Scope_RefusesEverythingElse(string text) => Assert.False(AccessScope.TryParse(text, out _));

    [Fact]
    public void Scope_ContainsItselfAndWhatIsBelow_NotSiblingsWithACommonPrefix()
    {
        Assert.True(Subscription.Contains(B1));
        Assert.True(Blue.Contains(B1));
        Assert.True(B1.Contains(B1));
        Assert.False(B1.Contains(Blue));
        Assert.False(Red.Contains(B1));
        Assert.False(AccessScope.ResourceGroup(Sub, "blu").Contains(Blue));
        Assert.Equal(("blue", "b1"), (B1.ResourceGroupKey, B1.MachineKey));
    }

    [Fact]
    public void Permissions_InheritDownwards_AndHideWhatIsOutOfReach()
    {
        var requesterOnBlue = new Permissions([new HeldRole(BuiltInRoles.JitRequester, Blue)]);
        Assert.Equal(AccessDecision.Allowed, requesterOnBlue.Decide(Actions.JitInitiate, B1));
        Assert.Equal(AccessDecision.Forbidden, requesterOnBlue.Decide(Actions.JitPolicyWrite, B1));
        Assert.Equal(AccessDecision.NotFound, requesterOnBlue.Decide(Actions.JitInitiate, Red));

        // Knowing something below a scope means knowing the scope exists: 403 above, never 404.
        var requesterOnB1 = new Permissions([new HeldRole(BuiltInRoles.JitRequester, B1)]);
        Assert.Equal(AccessDecision.Forbidden, requesterOnB1.Decide(Actions.JitInitiate, Blue));
        Assert.Equal(AccessDecision.Allowed, requesterOnB1.DecideWithin(Actions.JitInitiate, Subscription));
        Assert.Equal(AccessDecision.Forbidden, requesterOnB1.DecideWithin(Actions.AuditRead, Subscription));
        Assert.Equal(AccessDecision.NotFound, requesterOnB1.DecideWithin(Actions.JitInitiate, Red));
        Assert.Equal(AccessDecision.NotFound, Permissions.None.Decide(Actions.VirtualMachineRead, Subscription));

        var mixed = new Permissions([new HeldRole(BuiltInRoles.SecurityReader, Subscription), new HeldRole(BuiltInRoles.JitAdministrator, Red)]);
        Assert.Equal(AccessDecision.Allowed, mixed.Decide(Actions.JitPolicyWrite, AccessScope.VirtualMachine(Sub, "red", "r1")));
        Assert.Equal(AccessDecision.Forbidden, mixed.Decide(Actions.JitPolicyWrite, B1));
    }
}
