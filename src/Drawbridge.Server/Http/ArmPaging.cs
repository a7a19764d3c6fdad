using System.Globalization;
using Drawbridge.Contracts;
using Drawbridge.Server.Options;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Http;

/// <summary>
/// ARM list paging: at most <c>Drawbridge:Limits:PageSize</c> items per answer, and a <c>nextLink</c> (this request's
/// URL with <c>$skipToken</c>) while more remain. Azure's SDKs follow nextLink by themselves. Lists are ordered by
/// resource group and name, so an offset is a stable token.
/// </summary>
internal sealed class ArmPaging(IOptions<DrawbridgeOptions> options, IHttpContextAccessor accessor)
{
    public const string SkipToken = "$skipToken";

    /// <summary>This request's page of <paramref name="all"/> as the response, or a 400 problem for a bad token.</summary>
    public IResult Json<T>(IReadOnlyList<T> all, System.Text.Json.Serialization.Metadata.JsonTypeInfo<ArmList<T>> type)
    {
        var (page, problem) = Page(all);
        return problem ?? TypedResults.Json(page!, type);
    }

    /// <summary>This request's page of <paramref name="all"/>, or a 400 problem for a token this server did not issue.</summary>
    public (ArmList<T>? Page, IResult? Problem) Page<T>(IReadOnlyList<T> all)
    {
        var request = accessor.HttpContext!.Request;
        var query = QueryHelpers.ParseQuery(request.QueryString.Value);
        var token = query.FirstOrDefault(q => string.Equals(q.Key, SkipToken, StringComparison.OrdinalIgnoreCase));
        var skip = 0;
        if (token.Key is not null && (!int.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out skip) || skip > all.Count))
        {
            return (null, Problems.Validation(SkipToken, $"'{token.Value}' is not a page of this list; start again without {SkipToken}"));
        }

        var size = options.Value.Limits.PageSize;
        var page = new ArmList<T> { Value = all.Skip(skip).Take(size).ToList() };
        if (skip + size < all.Count)
        {
            var next = query.Where(q => !string.Equals(q.Key, SkipToken, StringComparison.OrdinalIgnoreCase))
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                .Append(new KeyValuePair<string, string?>(SkipToken, (skip + size).ToString(CultureInfo.InvariantCulture)));
            page.NextLink = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{QueryString.Create(next)}";
        }

        return (page, null);
    }
}
