using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Drawbridge.Server.Storage;

/// <summary>
/// An EF Core compiled query (<see cref="EF.CompileAsyncQuery{TContext,TResult}(System.Linq.Expressions.Expression{Func{TContext,TResult}})"/>),
/// compiled once per model. Compiling saves each call EF's translation work (parameter extraction from the expression
/// tree and the query cache lookup), which cost more than the hot lookups themselves (bench/README.md, "Throughput").
/// EF binds a compiled query to the first model it runs against and refuses any other; there is one model per
/// database provider, and the tests run both providers in one process.
/// </summary>
internal sealed class CompiledPerModel<TQuery>(Func<TQuery> compile)
    where TQuery : Delegate
{
    private readonly ConditionalWeakTable<IModel, TQuery> byModel = [];

    public TQuery For(DbContext db) => byModel.GetValue(db.Model, _ => compile());
}
