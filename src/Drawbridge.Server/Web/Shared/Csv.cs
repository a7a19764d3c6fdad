using System.Text;

namespace Drawbridge.Server.Web.Shared;

/// <summary>RFC 4180 CSV downloads that a spreadsheet opens safely.</summary>
internal static class Csv
{
    public static IResult Download(string fileName, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var text = new StringBuilder();
        Line(text, header);
        foreach (var row in rows)
        {
            Line(text, row);
        }

        return Results.File(Encoding.UTF8.GetBytes(text.ToString()), "text/csv; charset=utf-8", fileName);
    }

    /// <summary>
    /// Quotes what needs quoting, and defuses fields a spreadsheet would run as a formula (=, +, -, @ first): a user
    /// name or justification typed by someone else must not become a command in the reader's spreadsheet.
    /// </summary>
    public static string Field(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }

    private static void Line(StringBuilder text, IEnumerable<string?> fields) => text.AppendJoin(',', fields.Select(Field)).Append("\r\n");
}
