namespace Drawbridge.Contracts;

// POST /api/v1/inventory/import: machines and their network security groups read from a cloud inventory by the CLI
// ("drawbridge import azure|aws"). Written in one transaction; imported machines have no agent.

public sealed class InventoryImport
{
    /// <summary>"Azure" or "AWS".</summary>
    public string? Source { get; set; }
    public List<ImportedGroup>? Groups { get; set; }
    public List<ImportedMachine>? Machines { get; set; }

    /// <summary>What the reader left out or could not resolve, for the operator (rules that cannot reach a management port, ...).</summary>
    public List<string>? Notes { get; set; }
}

public sealed class ImportedGroup
{
    public string? ResourceGroup { get; set; }
    public string? Name { get; set; }
    public string? Location { get; set; }

    /// <summary>"Azure" (priorities, deny rules, Azure's defaults) or "AwsSecurityGroup" (allow rules only).</summary>
    public string? Kind { get; set; }
    public List<SecurityRuleResource>? SecurityRules { get; set; }
}

public sealed class ImportedMachine
{
    public string? ResourceGroup { get; set; }
    public string? Name { get; set; }
    public string? OsType { get; set; }
    public List<string>? Addresses { get; set; }
    public List<ImportedAttachment>? Groups { get; set; }
}

/// <summary>A group on a machine's path: layer 0 is a subnet's group, layer 1 a network interface's (Azure); AWS groups are all layer 0.</summary>
public sealed class ImportedAttachment
{
    public string? ResourceGroup { get; set; }
    public string? Name { get; set; }
    public int Layer { get; set; }
}

public sealed class InventoryImportResult
{
    public int Machines { get; set; }
    public int Groups { get; set; }
    public int Attachments { get; set; }
    public List<string> Notes { get; set; } = [];
}
