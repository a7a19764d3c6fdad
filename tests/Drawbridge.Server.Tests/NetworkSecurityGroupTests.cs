using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Drawbridge.Server.Tests;

public sealed class NetworkSecurityGroupTests_Sqlite() : NetworkSecurityGroupTests(new SqliteDatabase());

public sealed class NetworkSecurityGroupTests_Postgres() : NetworkSecurityGroupTests(new PostgresDatabase());

/// <summary>Network security groups as resources, what agents receive from them, and how they change the assessment.</summary>
public abstract class NetworkSecurityGroupTests(ITestDatabase database) : IAsyncLifetime
{
    private const string NV = "api-version=2024-05-01";
    private const string SV = "api-version=2020-01-01";
    private TestServer _server = null!;
    private HttpClient _agent = null!;
    private string _credential = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(database);
        (_agent, _credential) = await _server.EnrollAsync("h1", "198.18.0.11");
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
        GC.SuppressFinalize(this);
    }

    private string NsgPath(string name = "web-nsg") => $"{_server.Sub}/resourceGroups/default/providers/Microsoft.Network/networkSecurityGroups/{name}?{NV}";

    private string Body(string rules, bool attach = true)
    {
        var machines = attach ? $$""","virtualMachines":[{"id":"{{_server.VmId("h1")}}"}]""" : "";
        return """{"location":"local","properties":{"securityRules":[""" + rules + "]" + machines + "}}";
    }

    private static string Rule(string name, int priority, string access, string protocol, string source, string ports) =>
        $$$"""{"name":"{{{name}}}","properties":{"priority":{{{priority}}},"direction":"Inbound","access":"{{{access}}}","protocol":"{{{protocol}}}","sourceAddressPrefix":"{{{source}}}","destinationPortRange":"{{{ports}}}"}}""";

    private async Task<SecurityAssessment> AssessAsync()
    {
        var list = await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/assessments?{SV}", DrawbridgeJson.Wire.ArmListSecurityAssessment, TestContext.Current.CancellationToken);
        return Assert.Single(list!.Value);
    }

    [Fact]
    public async Task Put_StoresTheAzureShape_AndTheAgentReceivesTheRulesResolved()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = (await _agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!.Version;
        var put = await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(
            Rule("AllowHttps", 300, "Allow", "Tcp", "Internet", "443") + "," + Rule("DenyRange", 200, "Deny", "*", "203.0.113.0/24", "1000-2000"))), ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var nsg = (await _server.Owner.GetFromJsonAsync(NsgPath(), DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct))!;
        Assert.Equal(($"{_server.Sub}/resourceGroups/default/providers/Microsoft.Network/networkSecurityGroups/web-nsg", "Microsoft.Network/networkSecurityGroups", "local"),
            (nsg.Id, nsg.Type, nsg.Location));
        Assert.Equal(["AllowHttps", "DenyRange"], nsg.Properties!.SecurityRules!.Select(r => r.Name));
        var https = nsg.Properties.SecurityRules![0].Properties!;
        Assert.Equal(("Tcp", "Internet", "443", 300, "Allow", "Inbound"), (https.Protocol, https.SourceAddressPrefix, https.DestinationPortRange, https.Priority, https.Access, https.Direction));
        Assert.Equal(["AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound", "AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound"],
            nsg.Properties.DefaultSecurityRules!.Select(r => r.Name));
        Assert.Equal([_server.VmId("h1")], nsg.Properties.VirtualMachines!.Select(v => v.Id));

        // The machine's state has a new version with the group in evaluation order: the deny (200) first, defaults last.
        var state = (await _agent.GetFromJsonAsync($"/agent/v1/state?after={before}", DrawbridgeJson.Wire.DesiredState, ct))!;
        Assert.True(state.Version > before);
        var group = Assert.Single(state.SecurityGroups);
        Assert.Equal(["DenyRange", "AllowHttps", "AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound"], group.Rules.Select(r => r.Name));
        Assert.Equal(["203.0.113.0/24"], group.Rules[0].Sources);
        Assert.Equal(["1000-2000"], group.Rules[0].Ports);
        Assert.Equal(("deny", "*"), (group.Rules[0].Access, group.Rules[0].Protocol));
        Assert.DoesNotContain("10.0.0.0/8", group.Rules[1].Sources);         // "Internet" is expanded without private ranges
        Assert.Empty(group.Rules[4].Sources);                                // DenyAllInBound: any source, any port
        Assert.Empty(group.Rules[4].Ports);

        // Detaching (an empty list) takes the group off the machine; leaving virtualMachines out keeps the attachments.
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowHttps", 300, "Allow", "Tcp", "*", "443"), attach: false)), ct)).StatusCode);
        Assert.Single((await _agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!.SecurityGroups);
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath(), TestServer.Json("""{"properties":{"securityRules":[],"virtualMachines":[]}}"""), ct)).StatusCode);
        Assert.Empty((await _agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!.SecurityGroups);
    }

    [Fact]
    public async Task GroupChange_WakesTheWaitingPolls_WithTheVersionsItCommitted_AndRulesResolvedFromTheNewContent()
    {
        var ct = TestContext.Current.CancellationToken;
        var (h2, _) = await _server.EnrollAsync("h2", "198.18.0.12");
        string Attached(string rules) => """{"location":"local","properties":{"securityRules":[""" + rules
            + $$$"""],"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}"},{"id":"{{{_server.VmId("h2")}}}"}]}}""";
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Attached(Rule("Web", 300, "Allow", "Tcp", "Internet", "443"))), ct)).StatusCode);
        var agents = new[] { _agent, h2 };
        var before = await Task.WhenAll(agents.Select(a => a.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct)));
        Assert.All(before, s => Assert.True(s!.SecurityGroups[0].Rules.Single(r => r.Name == "Web").Sources.Count > 1)); // "Internet", expanded

        // Both wait; the same group gets a narrower source, with the same rule name, priority and port.
        var waiting = agents.Zip(before, (a, s) => a.GetAsync($"/agent/v1/state?after={s!.Version}", ct)).ToList();
        await Task.Delay(200, ct);
        Assert.DoesNotContain(waiting, w => w.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Attached(Rule("Web", 300, "Allow", "Tcp", "203.0.113.0/24", "443"))), ct)).StatusCode);
        for (var i = 0; i < agents.Length; i++)
        {
            var woken = (await (await waiting[i].WaitAsync(TimeSpan.FromSeconds(10), ct)).Content.ReadFromJsonAsync(DrawbridgeJson.Wire.DesiredState, ct))!;
            Assert.Equal(before[i]!.Version + 1, woken.Version);
            Assert.Equal(["203.0.113.0/24"], woken.SecurityGroups[0].Rules.Single(r => r.Name == "Web").Sources);
            var again = (await agents[i].GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
            Assert.Equal(woken.Version, again.Version);
        }
    }

    [Fact]
    public async Task ABatchOfStatesAndCredentials_GivesEachMachineItsOwn()
    {
        // h1: web; h2: web and db; h3: db, JIT on 22 and a live grant; h4: nothing.
        var ct = TestContext.Current.CancellationToken;
        var credentials = new Dictionary<string, string> { ["h1"] = _credential };
        foreach (var name in new[] { "h2", "h3", "h4" })
        {
            credentials[name] = (await _server.EnrollAsync(name, "198.18.0.2" + name[1..])).Credential;
        }

        string Attached(string port, params string[] machines) => """{"location":"local","properties":{"securityRules":[""" + Rule("In", 300, "Allow", "Tcp", "10.0.0.0/8", port)
            + "],\"virtualMachines\":[" + string.Join(',', machines.Select(m => $$"""{"id":"{{_server.VmId(m)}}"}""")) + "]}}";
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath("web-nsg"), TestServer.Json(Attached("443", "h1", "h2")), ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath("db-nsg"), TestServer.Json(Attached("5432", "h2", "h3")), ct)).StatusCode);
        await _server.EnableJitAsync("h3");
        Assert.Equal(HttpStatusCode.Accepted, (await _server.InitiateAsync(_server.Owner, """[{"number":22,"allowedSourceAddressPrefix":"198.18.0.100"}]""", "h3")).StatusCode);

        // One batch of credential lookups, an unknown one and a repeated one among them.
        var found = await _server.Services.GetRequiredService<AgentCredentials>().FindTogetherAsync(
            [Secrets.Hash(credentials["h3"]), Secrets.Hash("dba_not-a-credential-of-anyone"), Secrets.Hash(credentials["h1"]), Secrets.Hash(credentials["h2"]),
             Secrets.Hash(credentials["h4"]), Secrets.Hash(credentials["h3"])]);
        Assert.Equal(["h3", null, "h1", "h2", "h4", "h3"], found.Select(m => m?.Name));

        // One batch of states, h2 twice with different versions.
        var machines = found.OfType<Machine>().ToList();
        var wanted = machines.Select((m, i) => new DesiredStateBuilder.Wanted(m.Id, m.Name, 100 + i)).Append(new(machines[2].Id, "h2", 7)).ToList();
        var states = await _server.Services.GetRequiredService<DesiredStateBuilder>().BuildTogetherAsync(wanted);
        Assert.Equal(wanted.Select(w => (w.MachineName, w.Version)), states.Select(s => (s.MachineName!, s.Version)));
        string[] GroupPorts(DesiredState state) => [.. state.SecurityGroups.Select(g => $"{g.Name}:{g.Rules.Single(r => r.Name == "In").Ports.Single()}")];
        Assert.Equal([["db-nsg:5432"], ["web-nsg:443"], ["db-nsg:5432", "web-nsg:443"], [], ["db-nsg:5432"], ["db-nsg:5432", "web-nsg:443"]], states.Select(GroupPorts));
        Assert.Equal(["22", "", "", "", "22", ""], states.Select(s => string.Join(' ', s.ProtectedPorts.Select(p => p.Number))));
        Assert.Equal(["198.18.0.100:22", "", "", "", "198.18.0.100:22", ""], states.Select(s => string.Join(' ', s.Grants.Select(g => $"{g.Source}:{g.Port}"))));

        // What each agent receives over HTTP, all polling at once, is what the batch built for its machine.
        var polled = await Task.WhenAll(credentials.Select(async c =>
            (await _server.Client(c.Value).GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!));
        Assert.Equal(["h1", "h2", "h3", "h4"], polled.Select(s => s.MachineName));
        Assert.Equal([["web-nsg:443"], ["db-nsg:5432", "web-nsg:443"], ["db-nsg:5432"], []], polled.Select(GroupPorts));
    }

    [Fact]
    public async Task Assessment_FollowsTheGroup_ExposureBypassAndNarrowing()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowSSH", 300, "Allow", "Tcp", "*", "22"))), ct);
        var exposed = await AssessAsync();
        Assert.Equal(("Unhealthy", "NSG web-nsg rule AllowSSH (priority 300) allows 22/tcp from Internet"),
            (exposed.Properties!.Status!.Code, exposed.Properties.Status.Description));
        Assert.Equal("AllowSSH", exposed.Properties.AdditionalData!["securityRule"]);
        Assert.Equal(("22", "false"), (exposed.Properties.AdditionalData["exposedPorts"], exposed.Properties.AdditionalData["jitBypassed"]));

        // JIT on 22 does not help while the group's allow sits above the JIT deny.
        await _server.EnableJitAsync("h1");
        var bypassed = await AssessAsync();
        Assert.Equal("Unhealthy", bypassed.Properties!.Status!.Code);
        Assert.StartsWith("JIT is bypassed: NSG web-nsg rule AllowSSH", bypassed.Properties.Status.Description, StringComparison.Ordinal);
        Assert.Equal("true", bypassed.Properties.AdditionalData!["jitBypassed"]);

        // A higher-priority deny shadows the allow: Healthy again.
        await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowSSH", 300, "Allow", "Tcp", "*", "22") + "," + Rule("DenySSH", 200, "Deny", "*", "Internet", "22"))), ct);
        var healthy = await AssessAsync();
        Assert.Equal(("Healthy", "Just-in-time network access control protects port(s) 22"), (healthy.Properties!.Status!.Code, healthy.Properties.Status.Description));
    }

    [Fact]
    public async Task Assessment_UsesWhatTheAgentSawOnTheHost()
    {
        var ct = TestContext.Current.CancellationToken;
        var state = (await _agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!;
        var report = new AgentAppliedReport { Version = state.Version, ListeningPorts = [22, 80, 5986], OtherInputFilters = ["table ip filter chain INPUT at priority 0 (policy drop)"] };
        Assert.Equal(HttpStatusCode.NoContent, (await _agent.PostAsJsonAsync("/agent/v1/applied", report, DrawbridgeJson.Wire.AgentAppliedReport, ct)).StatusCode);
        Assert.Equal(
            "Nothing restricts inbound traffic to management ports: no NSG and no JIT policy (the host listens on 22, 5986; another nftables table also filters input and may drop traffic: table ip filter chain INPUT at priority 0 (policy drop))",
            (await AssessAsync()).Properties!.Status!.Description);

        // A report without a survey keeps the last one.
        Assert.Equal(HttpStatusCode.NoContent, (await _agent.PostAsJsonAsync("/agent/v1/applied", new AgentAppliedReport { Version = state.Version }, DrawbridgeJson.Wire.AgentAppliedReport, ct)).StatusCode);
        Assert.Contains("the host listens on 22, 5986", (await AssessAsync()).Properties!.Status!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EffectiveAccess_ShowsWhatGetsPastTheRulesAndTheJitDeny()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.EnableJitAsync("h1");
        await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowOffice", 300, "Allow", "Tcp", "198.51.100.0/24", "22"))), ct);
        var path = $"{_server.Sub}/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h1/effectiveNetworkAccess?{NV}";
        var access = (await _server.Owner.GetFromJsonAsync($"{path}&port=22&protocol=tcp", DrawbridgeJson.Wire.EffectiveNetworkAccess, ct))!;
        var ssh = Assert.Single(access.Value);
        Assert.Equal((22, "Tcp", true, true, "AllowOffice"), (ssh.Port, ssh.Protocol, ssh.JitProtected, ssh.FromInternet, ssh.SecurityRule));
        Assert.Equal(["198.51.100.0/24"], ssh.AllowedSources);
        Assert.EndsWith("/networkSecurityGroups/web-nsg", ssh.NetworkSecurityGroupId, StringComparison.Ordinal);

        // Without a port: the four management ports on both transports; 3389 is not JIT-protected here, so the defaults apply.
        var all = (await _server.Owner.GetFromJsonAsync(path, DrawbridgeJson.Wire.EffectiveNetworkAccess, ct))!;
        Assert.Equal(8, all.Value.Count);
        var rdp = all.Value.Single(a => a.Port == 3389 && a.Protocol == "Tcp");
        Assert.Equal((false, false, "AllowVnetInBound"), (rdp.JitProtected, rdp.FromInternet, rdp.SecurityRule));

        await Problem.AssertAsync(await _server.Owner.GetAsync($"{path}&port=70000", ct), HttpStatusCode.BadRequest, "port");
        await Problem.AssertAsync(await _server.Owner.GetAsync($"{path}&protocol=icmp", ct), HttpStatusCode.BadRequest, "protocol");
        await Problem.AssertAsync(await _server.Owner.GetAsync(path.Replace("/h1/", "/nope/", StringComparison.Ordinal), ct), HttpStatusCode.NotFound);
    }

    private static string Long(string sourcesAndPorts) =>
        """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp",""" + sourcesAndPorts + "}}]}}";

    public static TheoryData<string, string> BadGroups => new()
    {
        { """{"properties":{"securityRules":[RULE_A,RULE_A]}}""", "properties.securityRules[1].name" },
        { """{"properties":{"securityRules":[RULE_A,{"name":"b","properties":{"priority":300,"direction":"Inbound","access":"Deny","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"22"}}]}}""", "properties.securityRules[1].properties.priority" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":99,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"22"}}]}}""", "properties.securityRules[0].properties.priority" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Icmp","sourceAddressPrefix":"*","destinationPortRange":"22"}}]}}""", "properties.securityRules[0].properties.protocol" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","sourceAddressPrefixes":["10.0.0.0/8"],"destinationPortRange":"22"}}]}}""", "properties.securityRules[0].properties.sourceAddressPrefix" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"22","destinationAddressPrefix":"10.0.0.4"}}]}}""", "properties.securityRules[0].properties.destinationAddressPrefix" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"22","sourcePortRange":"1024-65535"}}]}}""", "properties.securityRules[0].properties.sourcePortRange" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"10.0.0.0/33","destinationPortRange":"22"}}]}}""", "properties.securityRules[0].properties.sourceAddressPrefixes[0]" },
        { """{"properties":{"securityRules":[{"name":"a","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*"}}]}}""", "properties.securityRules[0].properties.destinationPortRanges" },
        { """{"properties":{"securityRules":[null]}}""", "properties.securityRules[0]" },
        { """{"properties":{"virtualMachines":[{"id":"/subscriptions/SUB/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/nope"}]}}""", "properties.virtualMachines[0].id" },
        { """{"properties":{"virtualMachines":[{"id":"not-an-id"}]}}""", "properties.virtualMachines[0].id" },
        { """{"properties":{"virtualMachines":[{"id":"/subscriptions/SUB/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h1"},{"id":"/subscriptions/SUB/resourceGroups/DEFAULT/providers/Microsoft.Compute/virtualMachines/H1"}]}}""",
            "properties.virtualMachines[1].id" },
        { """{"properties":{"virtualMachines":[{"id":"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h1"}]}}""",
            "properties.virtualMachines[0].id" },
        { """{"location":"no place","properties":{}}""", "location" },

        // Longer than the rule's columns: PostgreSQL would refuse them, so they must be refused before (was a 500 there).
        { Long("\"sourceAddressPrefixes\":[" + string.Join(',', Enumerable.Range(0, 1000).Select(i => $"\"10.{i / 256}.{i % 256}.0/24\"")) + "],\"destinationPortRange\":\"22\""),
            "properties.securityRules[0].properties.sourceAddressPrefixes" },
        { Long("\"sourceAddressPrefix\":\"*\",\"destinationPortRanges\":[" + string.Join(',', Enumerable.Range(0, 700).Select(i => $"\"{(i * 90) + 1}-{(i * 90) + 80}\"")) + "]"),
            "properties.securityRules[0].properties.destinationPortRanges" },
    };

    [Theory]
    [MemberData(nameof(BadGroups))]
    public async Task Put_BadGroup_NamesTheFieldAndChangesNothing(string body, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowHttps", 300, "Allow", "Tcp", "*", "443"))), ct)).StatusCode);
        var before = await StoreSnapshot.TakeAsync(_server);
        body = body.Replace("RULE_A", Rule("a", 300, "Allow", "Tcp", "*", "22"), StringComparison.Ordinal).Replace("/subscriptions/SUB", _server.Sub, StringComparison.Ordinal);
        await Problem.AssertAsync(await _server.Owner.PutAsync(NsgPath(), TestServer.Json(body), ct), HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
        var stored = (await _server.Owner.GetFromJsonAsync(NsgPath(), DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct))!;
        Assert.Equal(["AllowHttps"], stored.Properties!.SecurityRules!.Select(r => r.Name));
    }

    [Fact]
    public async Task ConcurrentCreates_OfOneName_AreOkOrConflict_NeverAServerError()
    {
        var ct = TestContext.Current.CancellationToken;
        var body = Body(Rule("AllowHttps", 300, "Allow", "Tcp", "*", "443"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _server.Owner.PutAsync(NsgPath("racing"), TestServer.Json(body), ct)));
        foreach (var response in responses)
        {
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(1, await _server.DbAsync(db => Task.FromResult(db.SecurityGroups.Count(g => g.NameKey == "racing"))));
    }

    [Fact]
    public async Task Delete_DetachesFromMachines_AndMissingIs404Then204()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.Owner.PutAsync(NsgPath(), TestServer.Json(Body(Rule("AllowSSH", 300, "Allow", "Tcp", "*", "22"))), ct);
        Assert.Equal(HttpStatusCode.OK, (await _server.Owner.DeleteAsync(NsgPath(), ct)).StatusCode);
        Assert.Empty((await _agent.GetFromJsonAsync("/agent/v1/state?after=0", DrawbridgeJson.Wire.DesiredState, ct))!.SecurityGroups);
        await Problem.AssertAsync(await _server.Owner.GetAsync(NsgPath(), ct), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Owner.DeleteAsync(NsgPath(), ct)).StatusCode);
        await Problem.AssertAsync(await _server.Owner.GetAsync(NsgPath().Replace("2024-05-01", "2019-01-01", StringComparison.Ordinal), ct), HttpStatusCode.BadRequest);
    }
}
