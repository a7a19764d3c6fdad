namespace Drawbridge.Validation;

/// <summary>One problem with one input field; <see cref="Field"/> is a JSON path like <c>virtualMachines[0].ports[1].number</c>.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>Collects field errors while validating a whole input, so a caller hears every problem at once.</summary>
public sealed class ValidationErrors
{
    private readonly List<FieldError> _errors = [];

    public bool Any => _errors.Count > 0;
    public IReadOnlyList<FieldError> Items => _errors;

    public void Add(string field, string message) => _errors.Add(new FieldError(field, message));

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.GroupBy(e => e.Field, StringComparer.Ordinal)
               .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal);
}
