using System.Net;
using System.Text;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Tests;

/// <summary>
/// Property-based hostile input: mutated JSON bodies, odd paths and query strings against the real server over a
/// real SQLite file. Whatever arrives, the answer is never a 5xx, every error is problem details, and a refused
/// request changes nothing. FsCheck shrinks any failure to a small reproducer.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    /// <summary>Per property; DRAWBRIDGE_FUZZ_RUNS raises it for a deeper run than CI's.</summary>
    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("DRAWBRIDGE_FUZZ_RUNS"), out var runs) ? runs : 150;
    private TestServer _server = null!;
    private HttpClient _agent = null!;

    /// <summary>Values that have broken parsers before: huge and negative numbers, wrong types, unicode, traversal, wide CIDRs, long durations.</summary>
    private static readonly string[] NastyValues =
    [
        "null", "true", "[]", "{}", "0", "-1", "65536", "99999999999999999999", "1e309", "-0.0", "1.5",
        "\"\"", "\" \"", "\"*\"", "\"../../etc/passwd\"", "\"..%2F..%2Fetc\"", "\"\\u0000\"", "\"\\ud800\"", "\"日本語\"", "\"💥\"",
        "\"0.0.0.0/0\"", "\"::/0\"", "\"10.0.0.0/33\"", "\"256.1.1.1\"", "\"fe80::1%eth0\"", "\"P100Y\"", "\"PT0S\"", "\"-PT1H\"",
        "\"PT99999999999H\"", "\"2020-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "\"TCP\"", "\"ICMP\"",
        "[\"10.0.0.0/8\",\"x\"]", "[null]", "[null,null]", "[[[[[[[[[[[]]]]]]]]]]]", $"\"{new string('a', 5000)}\"",
    ];

    /// <summary>What people type into the pages' fields and query strings, at its worst.</summary>
    private static readonly string[] NastyFormValues =
    [
        "", " ", "-1", "0", "65536", "99999999999999999999", "1e309", "NaN", "1.5", "0.0001", "10001", "PT99999999999H", "P100Y", "-PT1H", "7d", "999999d",
        "*", "0.0.0.0/0", "10.0.0.0/33", "fe80::1%eth0", "../../etc", "default/h1", "default/h1/x", "/", "//evil.example", "h1", "日本語", "💥",
        "<script>x</script>", "=cmd", "live", "ended", "csv", "json", "xml", "Unhealthy", "NotApplicable", "5", "Configured", "Unsupported", "request", "list",
        new string('a', 5000),
    ];

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(new SqliteDatabase());
        (_agent, _) = await _server.EnrollAsync("h1");
        await _server.EnableJitAsync("h1");
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
    }

    [Fact]
    public void MutatedBodies_NeverFail_AndRefusalsChangeNothing()
    {
        var templates = new[]
        {
            ("PUT", $"{_server.PolicyPath()}?api-version=2020-01-01",
                $$$"""{"kind":"Basic","properties":{"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}","ports":[{"number":22,"protocol":"TCP","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]}]}}"""),
            ("POST", $"{_server.PolicyPath()}/initiate?api-version=2020-01-01",
                $$$"""{"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}","ports":[{"number":22,"duration":"PT1H","allowedSourceAddressPrefix":"127.0.0.1"}]}],"justification":"x"}"""),
            ("POST", "/api/v1/enrollment-tokens", """{"uses":1,"ttl":"1h"}"""),
            ("POST", "/api/v1/tokens", """{"principal":"owner","ttl":"1d","description":"d"}"""),
            ("POST", "/api/v1/users", """{"name":"u","displayName":"U","password":"long-enough-password"}"""),
            ("POST", "/api/v1/role-assignments", $$"""{"principal":"p","role":"JitRequester","scope":"{{_server.Sub}}/resourceGroups/default"}"""),
            ("POST", "/agent/v1/enroll", """{"token":"dbe_x","name":"n","addresses":["10.0.0.1"]}"""),
            ("PUT", $"{_server.Sub}/resourceGroups/default/providers/Microsoft.Network/networkSecurityGroups/g?api-version=2024-05-01",
                $$$"""{"location":"local","properties":{"securityRules":[{"name":"r","properties":{"priority":300,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRanges":["22","1000-2000"]}}],"virtualMachines":[{"id":"{{{_server.VmId("h1")}}}"}]}}"""),
            ("POST", "/api/v1/inventory/import",
                """{"source":"AWS","groups":[{"resourceGroup":"aws","name":"sg-1","kind":"AwsSecurityGroup","securityRules":[{"name":"r","properties":{"priority":100,"direction":"Inbound","access":"Allow","protocol":"*","sourceAddressPrefixes":["0.0.0.0/0"],"destinationPortRanges":["*"]}}]}],"machines":[{"resourceGroup":"aws","name":"i-1","osType":"Linux","addresses":["172.31.0.1"],"groups":[{"resourceGroup":"aws","name":"sg-1","layer":0}]}]}"""),
        };

        // A mutation replaces the n-th JSON value of a template with a nasty one, or cuts the body short.
        var mutation =
            from template in Gen.Elements(templates)
            from position in Gen.Choose(0, 40)
            from value in Gen.Elements(NastyValues)
            from truncate in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            select (template.Item1, template.Item2, Mutate(template.Item3, position, value, truncate));

        Prop.ForAll(mutation.ToArbitrary(), input => Check(input.Item1, input.Item2, input.Item3))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Fact]
    public void MutatedAgentReports_NeverFail_AndRefusalsChangeNothing()
    {
        // The agent channel, with the agent's own credential: its report alone, and riding a poll (after=0 answers at
        // once with the current state, so an accepted report does not wait out the hold).
        // Without an error, a report's version is what the machine records as applied: a refused version must not be.
        const string report = """{"version":1,"error":null,"driftRepaired":false,"listeningPorts":[22,3389],"otherInputFilters":["table ip filter"]}""";
        var mutation =
            from path in Gen.Elements("/agent/v1/applied", "/agent/v1/state?after=0")
            from position in Gen.Choose(0, 12)
            from value in Gen.Elements(NastyValues)
            from truncate in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            select (path, Mutate(report, position, value, truncate));

        Prop.ForAll(mutation.ToArbitrary(), input => Check("POST", input.Item1, input.Item2, _agent))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Fact]
    public void HostilePathsAndQueries_NeverFail()
    {
        // No %00 in paths: Kestrel refuses such a request line before the app runs (and TestServer cannot send one).
        var segments = Gen.Elements("..", "%2e%2e", "x%2Fy", "%ff%fe", "日本", new string('a', 300), "default", "DEFAULT", "h1", "%20", "a.b-c_d", "*");
        var queries = Gen.Elements("", "?api-version=2020-01-01", "?api-version=2024-05-01", "?api-version=", "?api-version=2020-01-01&api-version=x", "?api-version=1999-01-01",
            "?api-version=2020-01-01&active=maybe", "?since=%00", "?since=999999d", "?limit=-5", "?limit=99999999999", "?after=abc", "?after=-1", "?format=xml");
        var paths =
            from template in Gen.Elements(
                "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.Security/locations/{2}/jitNetworkAccessPolicies/{3}",
                "/subscriptions/{0}/providers/Microsoft.Security/jitNetworkAccessRequests/{1}",
                "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.Compute/virtualMachines/{2}",
                "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.Network/networkSecurityGroups/{2}",
                "/api/v1/tokens/{0}", "/api/v1/audit", "/agent/v1/state", "/api/v1/users/{0}/disable", "/api/v1/role-assignments/{0}", "/{0}/{1}")
            from a in Gen.OneOf(Gen.Constant(_server.SubscriptionId), segments)
            from b in segments
            from c in segments
            from d in segments
            from method in Gen.Elements("GET", "DELETE", "POST", "PUT", "PATCH")
            from query in queries
            select (method, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, a, b, c, d) + query, "{}");

        Prop.ForAll(paths.ToArbitrary(), input => Check(input.Item1, input.Item2, input.Item3))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Fact]
    public async Task HostilePagesAndForms_EveryFieldWithEveryNastyValue_NeverFail_AndRefusalsChangeNothing()
    {
        // Signed in with a session as the Owner, so every page and form is reachable and only the input is wrong.
        var ct = TestContext.Current.CancellationToken;
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/users", TestServer.Json("""{"name":"web","password":"long-enough-password"}"""), ct));
        await Responses.CreatedAsync(await _server.Owner.PostAsync("/api/v1/role-assignments", TestServer.Json("""{"principal":"web","role":"Owner"}"""), ct));
        var browser = _server.Browser();
        var login = await browser.GetStringAsync("/account/login", ct);
        using (var signIn = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = FormToken(login), ["name"] = "web", ["password"] = "long-enough-password",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/account/login", signIn, ct)).StatusCode);
        }

        var token = FormToken(await browser.GetStringAsync("/jit", ct));

        // Every field each page or form reads, with every nasty value: a small, fixed domain, so all of it, not a sample.
        (string Path, string[] Fields)[] pages =
        [
            ("/recommendations", ["state"]), ("/jit", ["tab"]), ("/jit/configure", ["vm"]),
            ("/requests", ["since", "machine", "requestor", "state", "format"]), ("/activity", ["since", "actor", "action", "result", "format"]),
        ];
        (string Path, string[] Fields)[] forms =
        [
            ("/jit/configure", ["vm", "ports[0].number", "ports[0].protocol", "ports[0].source", "ports[0].sources", "ports[0].maxTime", "remove", "add"]),
            ("/jit/remove", ["vm"]), ("/machines/default/h1/connect", ["port", "duration", "source", "cidr", "justification"]),
            ($"/requests/{Guid.Empty}/revoke", ["returnUrl"]), ("/requests/x/revoke", ["returnUrl"]),
        ];
        var requests = 0;
        foreach (var value in NastyFormValues)
        {
            var escaped = Uri.EscapeDataString(value);
            foreach (var get in pages.SelectMany(p => p.Fields.Select(f => $"{p.Path}?{f}={escaped}")).Append($"/machines/{escaped}/{escaped}"))
            {
                using var response = await browser.GetAsync(get, ct);
                Assert.True((int)response.StatusCode < 500, $"GET {get} -> {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                requests++;
            }

            foreach (var (path, field) in forms.SelectMany(f => f.Fields.Select(field => (f.Path, field))))
            {
                var before = await StoreSnapshot.TakeAsync(_server);
                using var body = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["__RequestVerificationToken"] = token, ["vm"] = "default/h1", ["ports[0].number"] = "22", ["ports[0].protocol"] = "TCP",
                    ["ports[0].source"] = "request", ["ports[0].maxTime"] = "3", ["port"] = "22", ["duration"] = "PT1H", ["source"] = "mine", [field] = value,
                });
                using var response = await browser.PostAsync(path, body, ct);
                Assert.True((int)response.StatusCode < 500, $"POST {path} {field}={value} -> {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                if ((int)response.StatusCode >= 400)
                {
                    Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
                }
                else
                {
                    // An accepted form is a legitimate change; keep h1 protected, with no live grant, for the next one.
                    await _server.EnableJitAsync("h1");
                    await _server.DbAsync(db => db.Grants.ExecuteUpdateAsync(s => s.SetProperty(g => g.Status, GrantStatus.Revoked), ct));
                }
                requests++;
            }
        }

        Assert.True(requests > 1000, $"{requests} requests");
    }

    private static string FormToken(string html) =>
        WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value);

    /// <summary>Sends as <paramref name="caller"/> (the Owner when null).</summary>
    private void Check(string method, string path, string body, HttpClient? caller = null)
    {
        var before = StoreSnapshot.TakeAsync(_server).GetAwaiter().GetResult();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = (caller ?? _server.Owner).SendAsync(request).GetAwaiter().GetResult();
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True((int)response.StatusCode < 500, $"{method} {path} {body} -> {(int)response.StatusCode}: {text}");
        if ((int)response.StatusCode >= 400)
        {
            Assert.Equal(Problem.MediaType(response), response.Content.Headers.ContentType?.MediaType);
            var problem = System.Text.Json.JsonSerializer.Deserialize(text, DrawbridgeJson.Wire.ProblemBody);
            Assert.False(string.IsNullOrEmpty(problem?.Detail), text);
            Assert.Equal(before, StoreSnapshot.TakeAsync(_server).GetAwaiter().GetResult());
        }

        // Accepted mutations are legitimate changes; keep the machine protected for the next run.
        if (response.StatusCode == HttpStatusCode.OK && method == "DELETE" && path.Contains("jitNetworkAccessPolicies", StringComparison.Ordinal))
        {
            _server.EnableJitAsync("h1").GetAwaiter().GetResult();
        }
    }

    private static string Mutate(string json, int position, string value, bool truncate)
    {
        if (truncate)
        {
            return json[..(position % json.Length)];
        }

        // Find the position-th value (after ':' or inside an array) and replace it.
        var starts = new List<(int Start, int End)>();
        for (var i = 0; i < json.Length; i++)
        {
            if (json[i] is ':' or '[' || (json[i] == ',' && i > 0 && json[i - 1] is '"' or ']' or '}' or >= '0' and <= '9'))
            {
                var start = i + 1;
                var end = ValueEnd(json, start);
                if (end > start)
                {
                    starts.Add((start, end));
                }
            }
        }

        var (s, e) = starts[position % starts.Count];
        return json[..s] + value + json[e..];
    }

    private static int ValueEnd(string json, int start)
    {
        if (start >= json.Length)
        {
            return start;
        }

        if (json[start] == '"')
        {
            var i = start + 1;
            while (i < json.Length && json[i] != '"')
            {
                i += json[i] == '\\' ? 2 : 1;
            }

            return Math.Min(i + 1, json.Length);
        }

        if (json[start] is '{' or '[')
        {
            var depth = 0;
            for (var i = start; i < json.Length; i++)
            {
                depth += json[i] is '{' or '[' ? 1 : json[i] is '}' or ']' ? -1 : 0;
                if (depth == 0)
                {
                    return i + 1;
                }
            }

            return json.Length;
        }

        var end = start;
        while (end < json.Length && json[end] is not (',' or '}' or ']'))
        {
            end++;
        }

        return end;
    }
}
