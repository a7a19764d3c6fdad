using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Spectre.Console;

namespace Drawbridge.Cli.Output;

internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>Human tables by default, indented JSON with -o json (the API's own shapes, for scripts).</summary>
internal sealed class Printer(OutputFormat format, TextWriter? writer = null)
{
    private readonly TextWriter _out = writer ?? Console.Out;

    public bool Json => format == OutputFormat.Json;

    public void Write<T>(T value, JsonTypeInfo<T> type) => _out.WriteLine(JsonSerializer.Serialize(value, type));

    /// <summary>The API's own object with -o json; otherwise the human form.</summary>
    public void Show<T>(T value, JsonTypeInfo<T> type, Action human)
    {
        if (Json)
        {
            Write(value, type);
        }
        else
        {
            human();
        }
    }

    public void Line(string text)
    {
        if (!Json)
        {
            _out.WriteLine(text);
        }
    }

    public void Table(string[] headers, IEnumerable<string[]> rows)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(header)).NoWrap());
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => new Text(cell)).ToArray());
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(_out),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = Math.Max(console.Profile.Width, 160);
        console.Write(table);
    }

    public static string When(DateTimeOffset time, DateTimeOffset now)
    {
        var text = time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return time > now ? $"{text} (in {JitDuration.ToShort(time - now)})" : text;
    }

    public static string Sources(JitNetworkAccessRequestPort port) =>
        port.AllowedSourceAddressPrefix ?? string.Join(",", port.AllowedSourceAddressPrefixes ?? []);

    /// <summary>"Owner at /, JitRequester at resourceGroups/blue": scopes without the subscription every caller shares.</summary>
    public static string Roles(IEnumerable<RoleAssignmentView> roles, string? subscriptionId)
    {
        var text = string.Join(", ", roles.Select(r => $"{r.Role} at {Scope(r.Scope, subscriptionId)}"));
        return text.Length == 0 ? "no roles yet" : text;
    }

    public static string Scope(string? scope, string? subscriptionId)
    {
        var prefix = $"/subscriptions/{subscriptionId}";
        return scope is null ? "" : !scope.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? scope : scope.Length == prefix.Length ? "/" : scope[(prefix.Length + 1)..];
    }

    public static string Name(string? armId) => armId?[(armId.LastIndexOf('/') + 1)..] ?? "";
}
