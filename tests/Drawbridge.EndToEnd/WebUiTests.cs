using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Drawbridge.EndToEnd;

/// <summary>A lab with two signed-up people and Debian's Chromium, started once for the browser tests.</summary>
public sealed class BrowserLab : IAsyncLifetime
{
    public const string AdminPassword = "correct horse battery staple";
    public const string RequesterPassword = "requester's long passphrase";
    public const string Chromium = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public static (bool Met, string What) ChromiumInstalled => (File.Exists(Chromium), $"{Chromium} (scripts/prerequisites.sh installs it)");

    public Lab Lab { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Requirements.Require(ChromiumInstalled);
        await Lab.InitializeAsync();

        Lab.CheckCli(AdminPassword + "\n", "user", "add", "ada", "--password-stdin");
        Lab.CheckCli("", "role", "assign", "ada", "Owner");
        Lab.CheckCli(RequesterPassword + "\n", "user", "add", "bob", "--password-stdin");
        Lab.CheckCli("", "role", "assign", "bob", "JitRequester", "--vm", "h6");

        // Chromium runs in the client namespace; Playwright talks to it over pipes, which the namespace switch keeps.
        var launcher = Path.Combine(Lab.Directory, "chromium-in-client");
        await File.WriteAllTextAsync(launcher, $"#!/bin/sh\nexec ip netns exec {Lab.Ns("client")} {Chromium} \"$@\"\n");
        Shell.Check("chmod", "0700", launcher);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = launcher, Headless = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Lab.DisposeAsync();
    }
}

/// <summary>
/// The web UI in a real browser: Debian's Chromium driven by Playwright, running inside the lab's client namespace
/// (198.18.0.100), so "my IP" is the requester's lab address and a granted port is checked with a real TCP connect
/// from there. Each page is saved to docs/screenshots/ for the README, and checked with axe (WCAG 2 A and AA).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class WebUiTests(BrowserLab fixture) : IClassFixture<BrowserLab>
{
    private const string AdminPassword = BrowserLab.AdminPassword;
    private const string RequesterPassword = BrowserLab.RequesterPassword;
    private const string ServerUrl = $"http://{Lab.ServerAddress}:5080";
    private readonly Lab lab = fixture.Lab;

    private static string Screenshots => Directory.CreateDirectory(Path.Combine(Lab.FindRoot(), "docs", "screenshots")).FullName;

    [Fact]
    public async Task Remediate_UnhealthyMachine_EnablesJitWithDefaults_AndThePortCloses()
    {
        Assert.True(lab.RunCli("jit", "disable", "h5").Exit == 0);
        await Lab.WaitForAsync(() => lab.CanConnect("client", Lab.HostAddress(5)), TimeSpan.FromSeconds(10), "h5's port 22 to open without JIT");
        var page = await SignInAsync("ada", AdminPassword, screenshot: "sign-in");

        await Expect(page.Locator("#count-unhealthy")).Not.ToHaveTextAsync("0");
        await page.GetByRole(AriaRole.Link, new() { Name = "Recommendations" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "h5" });
        await Expect(row).ToContainTextAsync("Unhealthy");
        await SaveAsync(page, "recommendations");

        await page.GetByLabel("Select h5").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remediate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "JIT VM access configuration" })).ToBeVisibleAsync();
        var ports = await page.Locator("input[name$='.number']").EvaluateAllAsync<string[]>("inputs => inputs.map(i => i.value)");
        Assert.Equal(["22", "3389", "5985", "5986"], ports);

        // A bad value is explained next to its field, and nothing is saved.
        await page.GetByLabel("Port number, row 2").FillAsync("70000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.Locator("#error-ports-1--number")).ToContainTextAsync("70000 is not a port number");
        await Expect(page.GetByLabel("Port number, row 2")).ToHaveAttributeAsync("aria-invalid", "true");
        await SaveAsync(page, "jit-configuration-error");
        Assert.True(lab.CanConnect("client", Lab.HostAddress(5)), "an invalid form changes nothing");

        await page.GetByLabel("Port number, row 2").FillAsync("3389");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/jit\\?tab=Configured$"));
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "h5" })).ToContainTextAsync("22/Any, 3389/Any, 5985/Any, 5986/Any");
        await SaveAsync(page, "jit-vm-access");
        await Lab.WaitForAsync(() => !lab.CanConnect("client", Lab.HostAddress(5)), TimeSpan.FromSeconds(5), "h5's port 22 to close once JIT is on");

        await page.GotoAsync($"{ServerUrl}/recommendations?state=Healthy");
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "h5" })).ToContainTextAsync("Healthy");
    }

    [Fact]
    public async Task RequestAccess_BecomesActive_OpensForMyAddress_ThenRevokeClosesIt_AndTheActivityLogSaysSo()
    {
        var host = Lab.HostAddress(4);
        Assert.False(lab.CanConnect("client", host));
        var page = await SignInAsync("ada", AdminPassword);
        await page.GotoAsync($"{ServerUrl}/machines/default/h4");
        await Expect(page.Locator("#my-ip")).ToHaveTextAsync(Lab.ClientAddress);
        await page.GetByLabel("Justification").FillAsync("browser end-to-end test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Request access" }).ClickAsync();

        var request = page.Locator(".request").First;
        await Expect(request.Locator("[data-state]")).ToHaveTextAsync("Active", new() { Timeout = 10_000 });
        await Expect(request.Locator("pre.command")).ToHaveTextAsync($"ssh {host}");
        await Expect(request).ToContainTextAsync($"from {Lab.ClientAddress}");
        Assert.True(lab.CanConnect("client", host), "open for the browser's address once the page says Active");
        Assert.False(lab.CanConnect("other", host), "and for no one else");
        await SaveAsync(page, "machine-connect");

        await request.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Lab.WaitForAsync(() => !lab.CanConnect("client", host), TimeSpan.FromSeconds(5), "the port to close after Revoke");
        await Expect(page.Locator(".request").First.Locator("[data-state]")).ToHaveTextAsync("Revoked");

        await page.GetByRole(AriaRole.Link, new() { Name = "Requests" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "browser end-to-end test" })).ToContainTextAsync("Revoked by ada");
        await SaveAsync(page, "requests");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!, TestContext.Current.CancellationToken);
        Assert.Contains(",ada,default,h4,22,TCP,198.18.0.100,Revoked,", csv, StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Link, new() { Name = "Activity log" }).ClickAsync();
        var revoked = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "jitNetworkAccessRequests/revoke/action" }).First;
        await Expect(revoked).ToContainTextAsync("ada");
        await Expect(revoked).ToContainTextAsync("Allowed");
        await Expect(revoked).ToContainTextAsync("1 grant(s) revoked");
        await SaveAsync(page, "activity-log");

        await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await Expect(page.Locator("#count-week")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("#grants-per-machine")).ToContainTextAsync("h4");
        await SaveAsync(page, "overview");
    }

    [Fact]
    public async Task Requester_SeesOnlyTheMachineAssignedToThem_AndNoButtonsTheyMayNotUse()
    {
        var page = await SignInAsync("bob", RequesterPassword);
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Activity log" })).ToHaveCountAsync(0);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Recommendations" })).ToHaveCountAsync(0);

        await nav.GetByRole(AriaRole.Link, new() { Name = "JIT VM access" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Configured (1)" })).ToBeVisibleAsync();
        await Expect(page.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("tbody tr")).ToContainTextAsync("h6");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Edit JIT for h6" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Remove JIT from h6" })).ToHaveCountAsync(0);
        await SaveAsync(page, "requester-jit-vm-access");

        await page.GetByRole(AriaRole.Link, new() { Name = "h6" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Request access" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Edit JIT configuration" })).ToHaveCountAsync(0);

        var other = await page.GotoAsync($"{ServerUrl}/machines/default/h1");
        Assert.Equal(404, other!.Status);
        var activity = await page.GotoAsync($"{ServerUrl}/activity");
        Assert.Equal(403, activity!.Status);
    }

    [Fact]
    public async Task EveryPage_PassesAnAutomatedAccessibilityCheck()
    {
        var page = await NewPageAsync();
        await page.GotoAsync($"{ServerUrl}/account/login");
        var failures = new List<string>();
        await CheckAsync(page, "sign-in", failures);
        page = await SignInAsync("ada", AdminPassword);
        foreach (var path in new[]
        {
            "/", "/recommendations", "/recommendations?state=Healthy", "/jit", "/jit?tab=NotConfigured", "/jit/configure?vm=default/h3", "/machines/default/h3",
            "/requests", "/activity", "/account",
        })
        {
            await page.GotoAsync(ServerUrl + path);
            await CheckAsync(page, path, failures);
        }

        // The configuration page with its errors shown, as a keyboard user meets it.
        await page.GotoAsync($"{ServerUrl}/jit/configure?vm=default/h3");
        await page.GetByLabel("Port number, row 1").FillAsync("x");
        await page.GetByLabel("Port number, row 1").PressAsync("Enter");
        await Expect(page.Locator("#error-ports-0--number")).ToBeVisibleAsync();
        await CheckAsync(page, "configuration with errors", failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task CheckAsync(IPage page, string name, List<string> failures)
    {
        var result = await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
        failures.AddRange(result.Violations.Select(v => $"{name}: {v.Id} ({v.Impact}) {v.Help}: {string.Join("; ", v.Nodes.Select(n => n.Html))}"));
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    private async Task<IPage> SignInAsync(string name, string password, string? screenshot = null)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(ServerUrl + "/");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("Password").FillAsync(password);
        if (screenshot is not null)
        {
            await SaveAsync(page, screenshot);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText($"Signed in as {name}")).ToBeVisibleAsync();
        return page;
    }

    private static async Task SaveAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static IPageAssertions Expect(IPage page) => Assertions.Expect(page);
}
