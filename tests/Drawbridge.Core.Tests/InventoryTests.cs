using Drawbridge.Contracts;
using Drawbridge.Inventory;
using Drawbridge.Posture;
using Drawbridge.Validation;

namespace Drawbridge.Core.Tests;

/// <summary>Reading az and aws CLI output (samples in Inventory/, written from those tools' documented shapes) and assessing it.</summary>
public class InventoryTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Inventory", name));

    private static InventoryImport Azure(bool withNics = true) => AzureInventory.Read(
        Sample("az-vms.json"), "vms.json", Sample("az-nsgs.json"), "nsgs.json", withNics ? Sample("az-nics.json") : null, withNics ? "nics.json" : null);

    private static InventoryImport Aws() => AwsInventory.Read(Sample("aws-instances.json"), "instances.json", Sample("aws-security-groups.json"), "sgs.json", "aws");

    /// <summary>Each machine assessed with its groups, in layer order, as the server does.</summary>
    private static Dictionary<string, PostureResult> Assess(InventoryImport import)
    {
        var groups = import.Groups!.ToDictionary(g => (g.ResourceGroup!.ToLowerInvariant(), g.Name!.ToLowerInvariant()), g =>
        {
            var errors = new ValidationErrors();
            var rules = g.SecurityRules!.Select(r => NsgRule.TryCreate(r.Name, r.Properties!.Priority, r.Properties.Direction, r.Properties.Access, r.Properties.Protocol,
                r.Properties.SourceAddressPrefixes, r.Properties.DestinationPortRanges, "r", errors)!).ToList();
            Assert.False(errors.Any);
            return new NetworkSecurityGroup(g.Name!, rules, Enum.Parse<NsgKind>(g.Kind!));
        });
        return import.Machines!.ToDictionary(m => m.Name!, m => PostureAssessment.Assess(new PostureInput(null,
            m.Groups!.OrderBy(a => a.Layer).Select(a => groups[(a.ResourceGroup!.ToLowerInvariant(), a.Name!.ToLowerInvariant())]).ToList(), false, JitUnavailable: "imported")));
    }

    [Fact]
    public void Azure_ResolvesNicAndSubnetGroups()
    {
        var import = Azure();
        var machines = import.Machines!.ToDictionary(m => m.Name!);
        Assert.Equal(["app-1", "batch-1", "db-1", "web-1"], machines.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([("web-nsg", 1)], machines["web-1"].Groups!.Select(a => (a.Name!, a.Layer)));       // listed by the NSG and by the NIC: once
        Assert.Equal([("app-subnet-nsg", 0)], machines["app-1"].Groups!.Select(a => (a.Name!, a.Layer)));
        Assert.Equal([("db-nsg", 1)], machines["db-1"].Groups!.Select(a => (a.Name!, a.Layer)));
        Assert.Empty(machines["batch-1"].Groups!);
        Assert.Equal(("Windows", "WEB-RG"), (machines["app-1"].OsType, machines["app-1"].ResourceGroup));
        Assert.Equal(["10.0.1.4", "20.61.14.7"], machines["web-1"].Addresses!);
    }

    [Fact]
    public void Azure_LeavesOutOnlyWhatCannotHideAnExposure_AndSaysSo()
    {
        var import = Azure();
        Assert.Equal(
        [
            "NSG web-nsg rule AllowPing: protocol Icmp never reaches a TCP or UDP management port; left out",
            "NSG web-nsg rule AllowFrontDoor: service tag AzureFrontDoor.Backend is taken as Internet",
            "NSG db-nsg rule DenyWinRmToOther: denies only some destinations or source ports; left out, so the assessment cannot be looser than Azure",
        ], import.Notes!);
        Assert.Equal(["AllowSSH", "AllowWeb", "AllowFrontDoor"], import.Groups!.Single(g => g.Name == "web-nsg").SecurityRules!.Select(r => r.Name));
    }

    [Fact]
    public void Azure_AssessedWithTheSameEngine()
    {
        var results = Assess(Azure());
        Assert.Equal((PostureState.Unhealthy, "NSG web-nsg rule AllowSSH (priority 300) allows 22/tcp from Internet; narrow or remove that rule (imported)"),
            (results["web-1"].State, results["web-1"].Reason));
        Assert.StartsWith("NSG app-subnet-nsg rule AllowRDP (priority 200) allows 3389/tcp from Internet", results["app-1"].Reason, StringComparison.Ordinal);

        // 22 and 3389 are denied from the Internet first; the WinRM deny aimed at another machine was left out, so 5985 shows.
        Assert.StartsWith("NSG db-nsg rule AllowAll (priority 4000) allows 5985/tcp from Internet", results["db-1"].Reason, StringComparison.Ordinal);
        Assert.Equal((PostureState.NotApplicable, "imported"), (results["batch-1"].State, results["batch-1"].Reason));
    }

    [Fact]
    public void Azure_WithoutNics_SubnetGroupsAreUnresolved_AndNoted()
    {
        var import = Azure(withNics: false);
        Assert.Empty(import.Machines!.Single(m => m.Name == "app-1").Groups!);
        Assert.Contains("NSG app-subnet-nsg is attached to 1 subnet(s); pass --nics (az network nic list) to resolve which machines are in them", import.Notes!);
    }

    [Fact]
    public void Aws_GroupsAreAlternatives_NamesFallBackToInstanceIds()
    {
        var import = Aws();
        Assert.Equal(["aws-web-1", "i-0a1b2c3d4e5f60002"], import.Machines!.Select(m => m.Name!));
        Assert.Equal(("Windows", "aws"), (import.Machines![1].OsType, import.Machines[1].ResourceGroup));
        Assert.Equal(["tcp-443-0", "tcp-3389-1"], import.Groups!.Single(g => g.Name == "sg-0web00000000001").SecurityRules!.Select(r => r.Name));
        Assert.Equal(
        [
            "security group sg-0web00000000001: a rule for protocol icmp never reaches a TCP or UDP management port; left out",
            "security group sg-0web00000000001: a rule that only names other security groups (private sources) is left out",
        ], import.Notes!);

        var results = Assess(import);
        Assert.StartsWith("security group sg-0ssh00000000002 rule tcp-22-0 allows 22/tcp from Internet", results["aws-web-1"].Reason, StringComparison.Ordinal);
        Assert.Equal(PostureState.Healthy, results["i-0a1b2c3d4e5f60002"].State);             // RDP from 10.0.0.0/8 only
    }

    public static TheoryData<string, string, string> MalformedAzure => new()
    {
        // vms.json, nsgs.json, expected error
        { "{}", "[]", "vms.json: $: expected an array" },
        { "[{\"id\":\"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x\"}]", "[]", "vms.json: $[0].name: is missing (expected a string)" },
        { "[{\"name\":\"x\",\"id\":\"nonsense\"}]", "[]", "vms.json: $[0].id: is not an Azure resource id with a resource group" },
        { "[", "[]", "vms.json: not valid JSON" },
        { "[]", "[{\"name\":\"n\",\"id\":\"/subscriptions/s/resourceGroups/rg/x/n\",\"securityRules\":[{\"name\":\"r\",\"access\":\"Allow\",\"protocol\":\"Tcp\",\"direction\":\"Inbound\",\"priority\":\"high\"}]}]",
            "nsgs.json: $[0].securityRules[0].priority: expected a number" },
        { "[]", "[{\"name\":\"n\",\"id\":\"/subscriptions/s/resourceGroups/rg/x/n\",\"securityRules\":[{\"name\":\"r\",\"access\":\"Allow\",\"protocol\":\"Tcp\",\"direction\":\"Inbound\",\"priority\":99,\"sourceAddressPrefix\":\"*\",\"destinationPortRange\":\"22\"}]}]",
            "nsgs.json: $[0].securityRules[0].priority: 99 is outside 100..4096" },
        { "[]", "[{\"name\":\"n\",\"id\":\"/subscriptions/s/resourceGroups/rg/x/n\",\"securityRules\":[{\"name\":\"r\",\"access\":\"Allow\",\"protocol\":\"Tcp\",\"direction\":\"Inbound\",\"priority\":300,\"sourceAddressPrefix\":\"*\",\"destinationPortRange\":\"22-ssh\"}]}]",
            "nsgs.json: $[0].securityRules[0].destinationPortRanges[0]: '22-ssh' is not a port, a range like 1000-2000, or *" },
        { "[]", "[{\"name\":\"n\",\"id\":\"/subscriptions/s/resourceGroups/rg/x/n\",\"properties\":{\"securityRules\":[{\"name\":\"r\",\"properties\":{\"access\":\"Allow\",\"protocol\":\"Tcp\",\"direction\":\"Inbound\",\"priority\":300,\"sourceAddressPrefix\":\"10.0.0.0/40\",\"destinationPortRange\":\"22\"}}]}}]",
            "nsgs.json: $[0].properties.securityRules[0].properties.sourceAddressPrefixes[0]:" },
    };

    [Theory]
    [MemberData(nameof(MalformedAzure))]
    public void Azure_Malformed_NamesFileAndPath(string vms, string nsgs, string expected)
    {
        var e = Assert.Throws<InventoryException>(() => AzureInventory.Read(vms, "vms.json", nsgs, "nsgs.json"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-1\",\"SecurityGroups\":[{\"GroupId\":\"sg-404\"}]}]}]}", "{\"SecurityGroups\":[]}",
        "instances.json: $.Reservations[0].Instances[0].SecurityGroups[0].GroupId: security group 'sg-404' is not in the security groups file")]
    [InlineData("{\"Reservations\":[]}", "{\"SecurityGroups\":[{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":21,\"IpRanges\":[]}]}]}",
        "sgs.json: $.SecurityGroups[0].IpPermissions[0].FromPort: ports 22..21 are not a port range")]
    [InlineData("{\"Reservations\":[]}", "{\"SecurityGroups\":[{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,\"IpRanges\":[{\"CidrIp\":\"anywhere\"}]}]}]}",
        "sgs.json: $.SecurityGroups[0].IpPermissions[0].IpRanges: 'anywhere' is not a CIDR prefix")]
    [InlineData("[]", "{\"SecurityGroups\":[]}", "instances.json: $.Reservations: is missing (expected an array)")]
    public void Aws_Malformed_NamesFileAndPath(string instances, string groups, string expected)
    {
        var e = Assert.Throws<InventoryException>(() => AwsInventory.Read(instances, "instances.json", groups, "sgs.json", "aws"));
        Assert.Equal(expected, e.Message);
    }
}
