using Drawbridge.Server.Http;

namespace Drawbridge.Server.Web.Shared;

/// <summary>
/// Errors of one form, by the form's own field names. API handlers report fields by their JSON paths; each form
/// maps those to its inputs, so the message from the one validator appears next to the field it is about.
/// </summary>
public sealed class FormErrors
{
    /// <summary>The key of errors about the whole form rather than one field.</summary>
    public const string Form = "";

    private readonly Dictionary<string, string> _messages = new(StringComparer.Ordinal);

    public bool Any => _messages.Count > 0;

    public IEnumerable<string> FormMessages => _messages.Where(kv => kv.Key == Form).Select(kv => kv.Value);

    public string? For(string field) => _messages.GetValueOrDefault(field);

    public bool Has(string field) => _messages.ContainsKey(field);

    /// <summary>Keeps the first message of a field; later ones usually follow from it.</summary>
    public void Add(string field, string message) => _messages.TryAdd(field, message);

    /// <summary>Takes a handler's validation problem, naming each field through <paramref name="map"/> (null: the form).</summary>
    internal bool TryAddProblem(IResult result, Func<string, string?> map)
    {
        if (result is not Problems.ProblemResult { Body: { Status: 400 } body })
        {
            return false;
        }

        if (body.Errors is null or { Count: 0 })
        {
            Add(Form, body.Detail ?? "The request is invalid.");
            return true;
        }

        foreach (var (path, messages) in body.Errors)
        {
            var field = map(path);
            Add(field ?? Form, field is null ? $"{path}: {messages[0]}" : Sentence(messages[0]));
        }

        return true;
    }

    /// <summary>"at most 1024 characters" reads as "At most 1024 characters."</summary>
    private static string Sentence(string message) =>
        message.Length == 0 ? message : char.ToUpperInvariant(message[0]) + message[1..] + (message.EndsWith('.') ? "" : ".");
}
