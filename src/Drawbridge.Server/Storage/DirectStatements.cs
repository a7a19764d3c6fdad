using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Drawbridge.Server.Storage;

/// <summary>
/// Statements on the hottest write path (the initiate) as plain commands on the current transaction, without the
/// change tracker or LINQ translation: through <see cref="DbContext.SaveChangesAsync(CancellationToken)"/> each row was
/// its own statement with EF Core's per-row bookkeeping, about 0.3 ms each on an idle server (bench/README.md, latency).
/// Column names, parameter types and value converters come from the model, so one statement text serves SQLite and
/// PostgreSQL alike.
/// </summary>
internal static class DirectStatements
{
    // Per model (the tests run both providers in one process), entity, row count and first parameter number.
    private static readonly ConcurrentDictionary<(IEntityType Entity, int Rows, int FirstParameter), string> Statements = new();
    private static readonly ConcurrentDictionary<IEntityType, IProperty[]> ColumnsOf = new();

    /// <summary>
    /// Inserts <paramref name="rows"/> as one command, one multi-row INSERT per entity type in the order the types first
    /// appear (parents before their children). Every column is set by the caller except an integer key the store
    /// numbers, which is left to it and not read back.
    /// </summary>
    public static async Task InsertAsync(this DrawbridgeDbContext db, IEnumerable<object> rows, CancellationToken ct)
    {
        await using var command = Command(db);
        var sql = new StringBuilder();
        foreach (var group in rows.GroupBy(row => row.GetType()))
        {
            var entity = db.Model.FindEntityType(group.Key) ?? throw new InvalidOperationException($"{group.Key.Name} is not an entity");
            var items = group.ToList();
            var columns = ColumnsOf.GetOrAdd(entity, Columns);
            sql.Append(Statements.GetOrAdd((entity, items.Count, command.Parameters.Count), key => Statement(key.Entity, columns, key.Rows, key.FirstParameter)));
            foreach (var item in items)
            {
                foreach (var property in columns)
                {
                    command.Parameters.Add(property.GetRelationalTypeMapping()
                        .CreateParameter(command, $"@d{command.Parameters.Count}", property.GetGetter().GetClrValueUsingContainingEntity(item), property.IsNullable));
                }
            }
        }

        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A command on the current transaction; these statements only ever run inside the change they belong to.</summary>
    public static DbCommand Command(DrawbridgeDbContext db)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Direct statements run inside the caller's transaction.");
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        return command;
    }

    /// <summary>A parameter holding <paramref name="value"/> as the column of <typeparamref name="TEntity"/>'s <paramref name="property"/> stores it.</summary>
    public static DbParameter Parameter<TEntity>(this DrawbridgeDbContext db, DbCommand command, string property, string name, object? value)
    {
        var column = db.Model.FindEntityType(typeof(TEntity))!.FindProperty(property)!;
        return column.GetRelationalTypeMapping().CreateParameter(command, name, value, column.IsNullable);
    }

    /// <summary>
    /// <paramref name="values"/> as SQL literals for an <c>IN (...)</c> list, written as the column of
    /// <typeparamref name="TEntity"/>'s <paramref name="property"/> stores them (the model's type mapping, as EF Core
    /// writes a constant list). Not a parameter each: SQLite binds a named parameter by comparing its name with every
    /// name of the statement, so a group's thousand machines took half a million comparisons (bench/README.md,
    /// "Fan-out"). For the server's own typed values (ids, states); the mapping quotes and escapes each.
    /// </summary>
    public static string InList<TEntity, TValue>(this DrawbridgeDbContext db, string property, IEnumerable<TValue> values)
    {
        var mapping = db.Model.FindEntityType(typeof(TEntity))!.FindProperty(property)!.GetRelationalTypeMapping();
        return string.Join(", ", values.Select(value => mapping.GenerateSqlLiteral(value)));
    }

    private static string Statement(IEntityType entity, IProperty[] columns, int rows, int firstParameter)
    {
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = new StringBuilder($"INSERT INTO \"{table.Name}\" ({string.Join(", ", columns.Select(c => $"\"{c.GetColumnName(table)}\""))}) VALUES ");
        var parameter = firstParameter;
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(" : ", (");
            sql.AppendJoin(", ", columns.Select(_ => $"@d{parameter++}"));
            sql.Append(')');
        }

        return sql.Append(";\n").ToString();
    }

    private static IProperty[] Columns(IEntityType entity)
    {
        var numbered = entity.FindPrimaryKey()!.Properties is [{ ClrType: var type } key] && (type == typeof(long) || type == typeof(int)) ? key : null;
        var columns = entity.GetProperties().Where(p => p != numbered).ToArray();
        if (columns.FirstOrDefault(p => p.ValueGenerated != ValueGenerated.Never && p.ClrType != typeof(Guid)) is { } generated)
        {
            throw new InvalidOperationException($"{entity.DisplayName()}.{generated.Name} is generated by the store; insert it with SaveChanges");
        }

        return columns;
    }
}
