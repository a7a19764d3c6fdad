using System.Net;
using System.Net.Http.Json;
using Drawbridge.Contracts;
using Drawbridge.Inventory;

namespace Drawbridge.Server.Tests;

public sealed class InventoryImportTests_Sqlite() : InventoryImportTests(new SqliteDatabase());

public sealed class InventoryImportTests_Postgres() : InventoryImportTests(new PostgresDatabase());

/// <summary>Imports of az/aws output (the Core samples) through the API: all or nothing, assessed like any machine.</summary>
public abstract class InventoryImportTests(ITestDatabase database) : IAsyncLifetime
{
    private const string SV = "api-version=2020-01-01";
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(database);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.DeleteData();
        GC.SuppressFinalize(this);
    }

    private static string Sample(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "Drawbridge.Core.Tests", "Inventory", name));

    private static InventoryImport Azure() => AzureInventory.Read(Sample("az-vms.json"), "vms.json", Sample("az-nsgs.json"), "nsgs.json", Sample("az-nics.json"), "nics.json");

    private Task<HttpResponseMessage> ImportAsync(InventoryImport import) =>
        _server.Owner.PostAsJsonAsync("/api/v1/inventory/import", import, DrawbridgeJson.Wire.InventoryImport, TestContext.Current.CancellationToken);

    private async Task<Dictionary<string, AssessmentStatus>> AssessAsync() =>
        (await _server.Owner.GetFromJsonAsync($"{_server.Sub}/providers/Microsoft.Security/assessments?{SV}", DrawbridgeJson.Wire.ArmListSecurityAssessment, TestContext.Current.CancellationToken))!
            .Value.ToDictionary(a => a.Properties!.ResourceDetails!.Id![(a.Properties.ResourceDetails.Id!.LastIndexOf('/') + 1)..], a => a.Properties!.Status!);

    [Fact]
    public async Task Azure_IsAssessed_ImportedMachinesSayWhyJitIsUnavailable()
    {
        var ct = TestContext.Current.CancellationToken;
        var response = await ImportAsync(Azure());
        var result = (await response.Content.ReadFromJsonAsync(DrawbridgeJson.Wire.InventoryImportResult, ct))!;
        Assert.Equal((HttpStatusCode.OK, 4, 3, 3, 3), (response.StatusCode, result.Machines, result.Groups, result.Attachments, result.Notes.Count));

        var states = await AssessAsync();
        Assert.Equal("Unhealthy", states["web-1"].Code);
        Assert.Equal("NSG web-nsg rule AllowSSH (priority 300) allows 22/tcp from Internet; narrow or remove that rule "
            + "(imported from Azure: JIT needs a Drawbridge agent on the machine, and cloud connectors are not built)", states["web-1"].Description);
        Assert.Equal(("Unhealthy", "Unhealthy", "NotApplicable"), (states["app-1"].Code, states["db-1"].Code, states["batch-1"].Code));

        // The groups are readable in the Azure shape, tagged as imported, and cannot be changed here.
        var nsgPath = $"{_server.Sub}/resourceGroups/web-rg/providers/Microsoft.Network/networkSecurityGroups/web-nsg?api-version=2024-05-01";
        var nsg = (await _server.Owner.GetFromJsonAsync(nsgPath, DrawbridgeJson.Wire.NetworkSecurityGroupResource, ct))!;
        Assert.Equal("Azure", nsg.Tags!["drawbridge-imported-from"]);
        await Problem.AssertAsync(await _server.Owner.PutAsync(nsgPath, TestServer.Json("""{"properties":{"securityRules":[]}}"""), ct), HttpStatusCode.Conflict);

        // JIT cannot be enabled on a machine without an agent.
        var policy = $$$"""{"properties":{"virtualMachines":[{"id":"{{{_server.Sub}}}/resourceGroups/WEB-RG/providers/Microsoft.Compute/virtualMachines/web-1","ports":[{"number":22,"protocol":"*","allowedSourceAddressPrefix":"*","maxRequestAccessDuration":"PT3H"}]}]}}""";
        var refused = await _server.Owner.PutAsync($"{_server.Sub}/resourceGroups/web-rg/providers/Microsoft.Security/locations/local/jitNetworkAccessPolicies/p?{SV}", TestServer.Json(policy), ct);
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "properties.virtualMachines[0].id");
        Assert.Contains("imported from Azure", problem.Errors!["properties.virtualMachines[0].id"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reimport_ReplacesRulesAndAttachments()
    {
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(Azure())).StatusCode);
        var fixedUp = Azure();
        fixedUp.Groups!.Single(g => g.Name == "web-nsg").SecurityRules!.RemoveAll(r => r.Name == "AllowSSH");
        fixedUp.Machines!.Single(m => m.Name == "db-1").Groups!.Clear();
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(fixedUp)).StatusCode);

        var states = await AssessAsync();
        Assert.Equal("Healthy", states["web-1"].Code);
        Assert.Equal("NotApplicable", states["db-1"].Code);
        Assert.Equal(4, await _server.DbAsync(db => Task.FromResult(db.Machines.Count(m => m.ImportedFrom == "Azure"))));
    }

    [Fact]
    public async Task NameOfAnEnrolledMachine_IsRefusedWhole_NothingWritten()
    {
        await _server.EnrollAsync("web-1");
        var import = Azure();
        foreach (var machine in import.Machines!)
        {
            machine.ResourceGroup = "default";
        }

        var before = await StoreSnapshot.TakeAsync(_server);
        await Problem.AssertAsync(await ImportAsync(import), HttpStatusCode.Conflict);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
    }

    public static TheoryData<string, string> BadImports => new()
    {
        { """{"source":"GCP","groups":[],"machines":[]}""", "source" },
        { """{"source":"Azure","groups":[{"resourceGroup":"rg","name":"g","kind":"Azure","securityRules":[{"name":"r","properties":{"priority":5000,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","destinationPortRange":"22"}}]}]}""",
            "groups[0].securityRules[0].properties.priority" },
        { """{"source":"Azure","groups":[{"resourceGroup":"rg","name":"g","kind":"Gcp"}]}""", "groups[0].kind" },
        { """{"source":"Azure","groups":[{"resourceGroup":"rg","name":"g","kind":"Azure"},{"resourceGroup":"RG","name":"G","kind":"Azure"}]}""", "groups[1].name" },
        { """{"source":"Azure","machines":[{"resourceGroup":"rg","name":"m","groups":[{"resourceGroup":"rg","name":"missing"}]}]}""", "machines[0].groups[0]" },
        { """{"source":"Azure","machines":[{"resourceGroup":"r g","name":"m"}]}""", "machines[0].resourceGroup" },
        { """{"source":"Azure","machines":[{"resourceGroup":"rg","name":"m","addresses":["10.0.0.300"]}]}""", "machines[0].addresses[0]" },
        { """{"source":"Azure","groups":[{"resourceGroup":"rg","name":"g","kind":"Azure"}],"machines":[{"resourceGroup":"rg","name":"m","groups":[{"resourceGroup":"rg","name":"g","layer":2}]}]}""", "machines[0].groups[0].layer" },
        { """{"source":"Azure","machines":[null]}""", "machines[0]" },
        { """{"source":"Azure","groups":[{"resourceGroup":"rg","name":"g","kind":"Azure","location":"far away"}]}""", "groups[0].location" },
        { $$"""{"source":"Azure","machines":[{"resourceGroup":"rg","name":"m","addresses":[{{string.Join(',', Enumerable.Range(1, 40).Select(i => $"\"10.0.0.{i}\""))}}]}]}""",
            "machines[0].addresses" },
    };

    [Theory]
    [MemberData(nameof(BadImports))]
    public async Task BadImport_NamesTheField_NothingWritten(string body, string field)
    {
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(Azure())).StatusCode);
        var before = await StoreSnapshot.TakeAsync(_server);
        await Problem.AssertAsync(await _server.Owner.PostAsync("/api/v1/inventory/import", TestServer.Json(body), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(_server));
    }
}
