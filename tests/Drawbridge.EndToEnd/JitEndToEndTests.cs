using System.Text.Json;
using Drawbridge.Contracts;

namespace Drawbridge.EndToEnd;

/// <summary>
/// Just-in-time access for real: the server, agents enforcing nftables in network namespaces, sshd listening,
/// and the CLI asking from a client namespace. Each test uses its own host so they do not see each other's grants.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class JitEndToEndTests(Lab lab) : IClassFixture<Lab>
{
    [Fact]
    public async Task Request_OpensForTheRequesterOnly_AndClosesWithinOneSecondOfItsEndTime()
    {
        var host = Lab.HostAddress(1);
        Assert.False(lab.CanConnect("client", host), "closed before any request");

        var request = lab.RequestJson("h1", "--port", "22", "--duration", "4s", "--justification", "e2e");
        var port = request.VirtualMachines.Single().Ports.Single();
        Assert.Equal(("Active", Lab.ClientAddress), (port.State, port.AllowedSourceAddressPrefix));

        Assert.True(lab.CanConnect("client", host), "open for the requester once the CLI says so");
        Assert.False(lab.CanConnect("other", host), "still closed for any other address");

        await Task.Delay(port.EndTimeUtc - DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.True(lab.CanConnect("client", host), "still open a second before the end time");
        var closedAfter = await Lab.TimeUntilAsync(() => !lab.CanConnect("client", host), port.EndTimeUtc, TimeSpan.FromSeconds(5));
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"closed {closedAfter.TotalMilliseconds:F0} ms after the end time");
    }

    [Fact]
    public async Task Revoke_ClosesThePortAtOnce()
    {
        var host = Lab.HostAddress(2);
        var request = lab.RequestJson("h2", "--port", "22", "--duration", "30m");
        Assert.True(lab.CanConnect("client", host));

        var revokedAt = DateTimeOffset.UtcNow;
        var revoke = lab.RunCli("revoke", request.Id![(request.Id!.LastIndexOf('/') + 1)..]);
        Assert.True(revoke.Exit == 0, revoke.Error);
        var closedAfter = await Lab.TimeUntilAsync(() => !lab.CanConnect("client", host), revokedAt, TimeSpan.FromSeconds(5));
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"closed {closedAfter.TotalMilliseconds:F0} ms after revoke");

        var listed = lab.RunCli("requests", "list", "-o", "json");
        var state = JsonSerializer.Deserialize(listed.Output, DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest)!
            .Value.Single(r => r.Id == request.Id).VirtualMachines[0].Ports[0];
        Assert.Equal(("Revoked", "UserRequested"), (state.Status, state.StatusReason));
    }

    [Fact]
    public async Task FlushedRuleset_IsRepairedWithinFiveSeconds()
    {
        var host = Lab.HostAddress(2);
        Assert.False(lab.CanConnect("other", host));
        var repairsBefore = lab.LogCount("h2", "table inet drawbridge is missing");
        Shell.Check("ip", "netns", "exec", lab.Ns("h2"), "nft", "flush", "ruleset");
        var flushedAt = DateTimeOffset.UtcNow;

        // Measured as "the agent repaired it and the port is closed again"; probing for the open port in between
        // would race the agent's drift check.
        var repairedAfter = await Lab.TimeUntilAsync(
            () => lab.LogCount("h2", "table inet drawbridge is missing") > repairsBefore && !lab.CanConnect("other", host),
            flushedAt, TimeSpan.FromSeconds(10));
        Assert.True(repairedAfter < TimeSpan.FromSeconds(5), $"repaired {repairedAfter.TotalMilliseconds:F0} ms after the flush");

        // The repair's report ends the agent's waiting poll (held 30 s) and rides the next one: audited within seconds.
        await Lab.WaitForAsync(() => JsonSerializer.Deserialize(lab.RunCli("audit", "--actor", "agent:h2", "--since", "1m", "-o", "json").Output, DrawbridgeJson.Wire.ListAuditEventView)!
            .Any(e => e.Reason?.StartsWith("drift repaired", StringComparison.Ordinal) == true && e.TimeUtc >= flushedAt), TimeSpan.FromSeconds(5), "the repair's report");
    }

    [Fact]
    public async Task KilledAgentAndServer_PortStillClosesOnTime_AndNothingIsLostOnRestart()
    {
        var host = Lab.HostAddress(3);
        var request = lab.RequestJson("h3", "--port", "22", "--duration", "5s");
        var end = request.VirtualMachines[0].Ports[0].EndTimeUtc;
        Assert.True(lab.CanConnect("client", host));

        lab.Kill("h3");
        lab.Kill("server");
        Assert.True(lab.CanConnect("client", host), "the grant outlives its enforcers until its end time");
        var closedAfter = await Lab.TimeUntilAsync(() => !lab.CanConnect("client", host), end, TimeSpan.FromSeconds(10));
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"closed {closedAfter.TotalMilliseconds:F0} ms after the end time with agent and server dead");

        // A rebooted host loads the boot file before any agent runs: protected ports closed, no grants.
        Shell.Check("ip", "netns", "exec", lab.Ns("h3"), "nft", "flush", "ruleset");
        Assert.True(lab.CanConnect("other", host));
        Shell.Check("ip", "netns", "exec", lab.Ns("h3"), "nft", "-f", Path.Combine(lab.StateDirectory("h3"), "boot.nft"));
        Assert.False(lab.CanConnect("other", host), "the boot file alone closes the port");

        await lab.RestartServerAsync();
        lab.StartAgent("h3");
        await Lab.WaitForAsync(() =>
        {
            var listed = lab.RunCli("requests", "list", "-o", "json");
            return listed.Exit == 0 && JsonSerializer.Deserialize(listed.Output, DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest)!
                .Value.Single(r => r.Id == request.Id).VirtualMachines[0].Ports[0].StatusReason == "Expired";
        }, TimeSpan.FromSeconds(15), "the restarted server to record the expiry");

        lab.RequestJson("h3", "--port", "22", "--duration", "3s");
        Assert.True(lab.CanConnect("client", host), "access works again after the restart");
    }

    [Fact]
    public async Task ServerRestoredFromAnOlderCopy_AgentDropsItsRefusedReport_AndFollowsTheServer()
    {
        var host = Lab.HostAddress(7);
        var data = Path.Combine(lab.Directory, "data");
        var copy = Directory.CreateDirectory(Path.Combine(lab.Directory, "data-copy")).FullName;

        // A copy of the database taken with the server stopped, as a backup is, then a grant the copy knows nothing of.
        lab.Kill("server");
        CopyDatabase(data, copy);
        await lab.RestartServerAsync();
        lab.RequestJson("h7", "--port", "22", "--duration", "1h");
        Assert.True(lab.CanConnect("client", host));

        // The server is restored from the copy. While it is down a flushed table is repaired, and the repair's report,
        // of a version the copy never published, waits for the server.
        lab.Kill("server");
        CopyDatabase(copy, data);
        var repairsBefore = lab.LogCount("h7", "Drift found");
        Shell.Check("ip", "netns", "exec", lab.Ns("h7"), "nft", "flush", "ruleset");
        await Lab.WaitForAsync(() => lab.LogCount("h7", "Drift found") > repairsBefore && !lab.CanConnect("other", host), TimeSpan.FromSeconds(10), "the repair");
        await lab.RestartServerAsync();

        // The restored server refuses that report. Sent again with every poll, it kept the agent from ever receiving
        // a state again; dropped, the next poll brings the restored state, in which the grant never happened.
        await Lab.WaitForAsync(() => !lab.CanConnect("client", host), TimeSpan.FromSeconds(30), "the agent to apply the restored server's state");
        Assert.Equal(1, lab.LogCount("h7", "The server refused the report of state version"));
        lab.RequestJson("h7", "--port", "22", "--duration", "1m");
        Assert.True(lab.CanConnect("client", host), "access works again after the restore");
    }

    /// <summary>Replaces the SQLite database (the file and its write-ahead log) in <paramref name="to"/> with the one in <paramref name="from"/>.</summary>
    private static void CopyDatabase(string from, string to)
    {
        foreach (var file in Directory.GetFiles(to, "drawbridge.db*"))
        {
            File.Delete(file);
        }

        foreach (var file in Directory.GetFiles(from, "drawbridge.db*"))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [Fact]
    public void Ssh_RequestsPort22_WaitsForTheAgent_AndConnects()
    {
        var (exit, output, error) = lab.RunCli("ssh", "h4", "--duration", "10m", "--",
            "-i", lab.KeyFile, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-l", "root", "echo", "connected-through-drawbridge");
        Assert.True(exit == 0, $"ssh failed ({exit}): {error}");
        Assert.Contains("connected-through-drawbridge", output, StringComparison.Ordinal);
        var id = System.Text.RegularExpressions.Regex.Match(error, @"\(request ([0-9a-f-]{36})\)").Groups[1].Value;
        Assert.Equal(0, lab.RunCli("revoke", id).Exit);
    }

    [Fact]
    public async Task IPv6_GrantOpensOverIPv6ForThatSourceOnly()
    {
        var host = Lab.HostAddress6(5);
        Assert.False(lab.CanConnect("client", host), "IPv6 port 22 closed before any request");
        var request = lab.RequestJson("h5", "--port", "22", "--duration", "10m", "--source", "fd00:db::100");
        Assert.True(lab.CanConnect("client", host), "open over IPv6 for fd00:db::100");
        Assert.False(lab.CanConnect("other", host), "closed for fd00:db::101");
        Assert.False(lab.CanConnect("client", Lab.HostAddress(5)), "the IPv6 grant does not open IPv4");
        var revokedAt = DateTimeOffset.UtcNow;
        Assert.Equal(0, lab.RunCli("revoke", request.Id![(request.Id!.LastIndexOf('/') + 1)..]).Exit);
        var closedAfter = await Lab.TimeUntilAsync(() => !lab.CanConnect("client", host), revokedAt, TimeSpan.FromSeconds(5));
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"IPv6 closed {closedAfter.TotalMilliseconds:F0} ms after revoke");
    }

    [Fact]
    public void BadInput_IsOneClearLine_AndNonZeroExit()
    {
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["request", "h1", "--port", "22", "--duration", "2h"], "longer than port 22's maximum PT1H"),
            (["request", "h1", "--port", "22", "--source", "10.0.0.0/33"], "prefix length"),
            (["request", "h1", "--port", "3389"], "not enabled"),
            (["request", "nope", "--port", "22"], "machine 'nope' does not exist"),
            (["revoke", "00000000-0000-0000-0000-000000000000"], "could not be found"),
            (["jit", "enable", "h1", "--port", "70000"], "not a port"),
        })
        {
            var (exit, output, error) = lab.RunCli(args);
            Assert.True(exit != 0, $"{string.Join(' ', args)} should fail");
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Equal("", output);
        }
    }

    [Fact]
    public void Tokens_AndAudit_FromTheCli()
    {
        // A requester for one machine only: user, role at the machine's scope, token.
        Assert.Equal(0, lab.RunCli("user", "add", "alice").Exit);
        var assigned = lab.RunCli("role", "assign", "alice", "JitRequester", "--vm", "h1");
        Assert.True(assigned.Exit == 0, assigned.Error);
        Assert.StartsWith("alice is JitRequester at resourceGroups/default/providers/Microsoft.Compute/virtualMachines/h1", assigned.Output, StringComparison.OrdinalIgnoreCase);
        var created = lab.RunCli("token", "create", "--principal", "alice", "--ttl", "1d", "-o", "json");
        Assert.True(created.Exit == 0, created.Error);
        var token = JsonSerializer.Deserialize(created.Output, DrawbridgeJson.Wire.ApiTokenView)!;

        // Alice works from the "other" namespace with her own login.
        var alice = new Dictionary<string, string> { ["DRAWBRIDGE_CONFIG"] = Path.Combine(lab.Directory, "alice.json") };
        string[] Cli(params string[] args) => [.. new[] { "netns", "exec", lab.Ns("other"), Lab.Cli }.Concat(args)];
        Assert.Equal(0, Shell.Run("ip", Cli("login", "--server", $"http://{Lab.ServerAddress}:5080", "--token", token.Token!), alice).Exit);
        var machines = JsonSerializer.Deserialize(Shell.Run("ip", Cli("vm", "list", "-o", "json"), alice).Output, DrawbridgeJson.Wire.ArmListVirtualMachine)!;
        Assert.Equal(["h1"], machines.Value.Select(m => m.Name));
        // She sees the policy with h1 alone, so the CLI would delete it: deleting needs the right at the group.
        var refused = Shell.Run("ip", Cli("jit", "disable", "h1"), alice);
        Assert.Equal((1, "error: You may not perform 'Microsoft.Security/locations/jitNetworkAccessPolicies/delete' here.\n"), (refused.Exit, refused.Error));

        Assert.Equal(0, lab.RunCli("token", "revoke", token.Id!).Exit);
        var revoked = Shell.Run("ip", Cli("vm", "list"), alice);
        Assert.Equal(1, revoked.Exit);
        Assert.Contains("bearer token is required", revoked.Error, StringComparison.Ordinal);

        var audit = lab.RunCli("audit", "--actor", "alice", "-o", "json");
        var events = JsonSerializer.Deserialize(audit.Output, DrawbridgeJson.Wire.ListAuditEventView)!;
        Assert.Contains(events, e => e.Result == "Refused" && e.Action == "Microsoft.Security/locations/jitNetworkAccessPolicies/delete");
        var verify = lab.RunCli("audit", "verify");
        Assert.True(verify.Exit == 0, verify.Error);
        Assert.StartsWith("Audit chain intact:", verify.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Assess_RemediateEnablesJit_AndTheMachineBecomesHealthy()
    {
        // A machine with an agent credential but no JIT: enrolled here, never started.
        var token = lab.RunCli("enroll-token", "create").Output.Trim();
        Shell.Check("ip", "netns", "exec", lab.Ns("other"), Lab.Agent, "enroll", "--server", $"http://{Lab.ServerAddress}:5080", "--token", token,
            "--name", "bare", "--state-dir", Path.Combine(lab.Directory, "bare"));
        SecurityAssessment Bare(string output) => JsonSerializer.Deserialize(output, DrawbridgeJson.Wire.ArmListSecurityAssessment)!
            .Value.Single(a => a.Properties!.ResourceDetails!.Id!.EndsWith("/bare", StringComparison.Ordinal));

        var before = lab.RunCli("assess", "-o", "json");
        Assert.Equal("Unhealthy", Bare(before.Output).Properties!.Status!.Code);

        var remediated = lab.RunCli("assess", "--remediate", "bare");
        Assert.True(remediated.Exit == 0, remediated.Error);
        Assert.Contains("Remediated bare", remediated.Output, StringComparison.Ordinal);
        Assert.Equal("Healthy", Bare(lab.RunCli("assess", "-o", "json").Output).Properties!.Status!.Code);
        var show = lab.RunCli("jit", "show", "bare", "-o", "json");
        var ports = JsonSerializer.Deserialize(show.Output, DrawbridgeJson.Wire.JitNetworkAccessPolicy)!.Properties!.VirtualMachines!
            .Single(m => m.Id!.EndsWith("/bare", StringComparison.Ordinal)).Ports!;
        Assert.Equal([22, 3389, 5985, 5986], ports.Select(p => p.Number!.Value));
        Assert.All(ports, p => Assert.Equal(("*", "*", "PT3H"), (p.Protocol, p.AllowedSourceAddressPrefix, p.MaxRequestAccessDuration)));
    }

    [Fact]
    public async Task NsgAllowOn22_OpensThePortPastJit_AndRemediationNarrowsIt()
    {
        var host = Lab.HostAddress(6);
        var timeout = TimeSpan.FromSeconds(5);
        Assert.False(lab.CanConnect("client", host), "JIT keeps 22 closed");
        Ok(lab.RunCli("nsg", "create", "web-nsg"));
        Ok(lab.RunCli("nsg", "rule", "add", "web-nsg", "AllowSshHttps", "--priority", "300", "--source", "*", "--port", "22", "443"));
        Ok(lab.RunCli("nsg", "attach", "web-nsg", "h6"));

        // The group's allow sits above the JIT deny, as in Azure: 22 is open to everyone, and the assessment says why.
        await Lab.WaitForAsync(() => lab.CanConnect("client", host) && lab.CanConnect("other", host), timeout, "the NSG allow to open 22");
        Assert.StartsWith("JIT is bypassed: NSG web-nsg rule AllowSshHttps (priority 300) allows 22/tcp from Internet", H6(lab.RunCli("assess", "-o", "json")).Description,
            StringComparison.Ordinal);
        var access = lab.RunCli("vm", "access", "h6", "--port", "22", "--protocol", "tcp");
        Assert.Contains("web-nsg/AllowSshHttps", access.Output, StringComparison.Ordinal);

        var hint = lab.RunCli("assess", "--remediate", "h6");
        Assert.Contains("--bypass narrow", hint.Output, StringComparison.Ordinal);
        var narrowed = lab.RunCli("assess", "--remediate", "h6", "--bypass", "narrow");
        Assert.True(narrowed.Exit == 0, narrowed.Error);
        Assert.Contains("rule AllowSshHttps narrowed to port(s) 443", narrowed.Output, StringComparison.Ordinal);
        await Lab.WaitForAsync(() => !lab.CanConnect("client", host) && !lab.CanConnect("other", host), timeout, "22 to close again");
        Assert.Equal("Healthy", H6(lab.RunCli("assess", "-o", "json")).Code);

        // Grants sit above the group's rules: a request still opens 22 for the requester alone.
        lab.RequestJson("h6", "--port", "22", "--duration", "1m");
        Assert.True(lab.CanConnect("client", host), "open for the requester through the group");
        Assert.False(lab.CanConnect("other", host), "closed for everyone else");

        static void Ok((int Exit, string Output, string Error) run) => Assert.True(run.Exit == 0, run.Error);
        static AssessmentStatus H6((int Exit, string Output, string Error) run) => JsonSerializer.Deserialize(run.Output, DrawbridgeJson.Wire.ArmListSecurityAssessment)!
            .Value.Single(a => a.Properties!.ResourceDetails!.Id!.EndsWith("/h6", StringComparison.Ordinal)).Properties!.Status!;
    }

    [Fact]
    public void ImportAzure_MachinesAreAssessed_AndABadFileIsOneLine()
    {
        var samples = Path.Combine(lab.Root, "tests", "Drawbridge.Core.Tests", "Inventory");
        var imported = lab.RunCli("import", "azure", "--vms", Path.Combine(samples, "az-vms.json"), "--nsgs", Path.Combine(samples, "az-nsgs.json"),
            "--nics", Path.Combine(samples, "az-nics.json"));
        Assert.True(imported.Exit == 0, imported.Error);
        Assert.StartsWith("Imported 4 machine(s), 3 network security group(s) and 3 attachment(s) from Azure.", imported.Output, StringComparison.Ordinal);

        var web = JsonSerializer.Deserialize(lab.RunCli("assess", "-o", "json").Output, DrawbridgeJson.Wire.ArmListSecurityAssessment)!
            .Value.Single(a => a.Properties!.ResourceDetails!.Id!.EndsWith("/web-1", StringComparison.Ordinal));
        Assert.Equal(("Unhealthy", "Azure"), (web.Properties!.Status!.Code, web.Properties.AdditionalData!["machineSource"]));

        var bad = Path.Combine(lab.Directory, "bad-vms.json");
        File.WriteAllText(bad, """[{"name": 7}]""");
        var refused = lab.RunCli("import", "azure", "--vms", bad, "--nsgs", Path.Combine(samples, "az-nsgs.json"));
        Assert.Equal((1, $"error: {bad}: $[0].name: expected a string"), (refused.Exit, refused.Error.Trim()));
    }
}
