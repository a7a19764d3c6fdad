using Drawbridge.Agent.Host;

namespace Drawbridge.Agent.Tests;

public class HostSurveyTests
{
    [Fact]
    public void ListeningPorts_ReadsListenStateOnly()
    {
        // /proc/net/tcp: sshd listening on 0.0.0.0:22 and 127.0.0.1:5986, an established connection from :3389.
        const string tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20815 1 0000000000000000 100 0 0 10 0
               1: 0100007F:176E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20816 1 0000000000000000 100 0 0 10 0
               2: 0A00000B:0D3D 0A000064:C350 01 00000000:00000000 00:00000000 00000000     0        0 20817 1 0000000000000000 20 4 30 10 -1
            """;
        Assert.Equal([22, 5998], HostSurvey.ListeningPorts(tcp).Order());
    }

    [Fact]
    public void ListeningManagementPorts_ReadsTcpAndTcp6_KeepsManagementPortsOnly()
    {
        // tcp: 22 and 8080 listening; tcp6: 3389 listening, 5985 only established.
        var procNet = Directory.CreateTempSubdirectory("drawbridge-procnet").FullName;
        try
        {
            const string header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
            File.WriteAllText(Path.Combine(procNet, "tcp"), header
                + "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
                + "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n");
            File.WriteAllText(Path.Combine(procNet, "tcp6"), header
                + "   0: 00000000000000000000000000000000:0D3D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1 0 100 0 0 10 0\n"
                + "   1: 00000000000000000000000001000000:175D 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000 0 0 4 1 0 20 4 30 10 -1\n");
            Assert.Equal([22, 3389], HostSurvey.ListeningManagementPorts(procNet));
        }
        finally
        {
            Directory.Delete(procNet, recursive: true);
        }
    }

    [Fact]
    public void OtherInputFilters_IgnoresOwnTableAcceptOnlyAndOtherHooks()
    {
        const string ruleset = """
            {"nftables": [
              {"metainfo": {"version": "1.0.6"}},
              {"chain": {"family": "inet", "table": "drawbridge", "name": "input", "hook": "input", "prio": -10, "policy": "accept"}},
              {"rule": {"family": "inet", "table": "drawbridge", "chain": "input", "expr": [{"drop": null}]}},
              {"chain": {"family": "ip", "table": "nat", "name": "PREROUTING", "hook": "prerouting", "prio": -100, "policy": "drop"}},
              {"chain": {"family": "inet", "table": "open", "name": "input", "hook": "input", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "inet", "table": "open", "chain": "input", "expr": [{"accept": null}]}},
              {"chain": {"family": "ip6", "table": "filter", "name": "INPUT", "hook": "input", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "ip6", "table": "filter", "chain": "INPUT", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"reject": {"type": "tcp reset"}}]}},
              {"rule": {"family": "ip6", "table": "filter", "chain": "INPUT", "expr": [{"drop": null}]}}
            ]}
            """;
        Assert.Equal(["table ip6 filter chain INPUT at priority 0 (2 drop or reject rule(s))"], HostSurvey.OtherInputFilters(ruleset, "inet", "drawbridge"));
    }
}
