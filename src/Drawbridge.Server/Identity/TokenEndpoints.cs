using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Personal API tokens: anyone creates, lists and revokes their own; an Owner can do so for others. A token proves
/// who the caller is; what they may do comes from their role assignments. Shown once, stored as a hash, revoked at
/// once (every request looks the hash up again).
/// </summary>
internal static class TokenEndpoints
{
    public const int MaxDescriptionLength = 256;
    private const string Personal = "everyone manages their own tokens; others' need the token actions at the subscription (checked per record)";

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/v1/tokens").WithTags("Identity");
        tokens.MapPost("", CreateAsync).AllowAnyCaller(Personal);
        tokens.MapGet("", ListAsync).AllowAnyCaller(Personal);
        tokens.MapDelete("/{id}", RevokeAsync).AllowAnyCaller(Personal);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.ApiTokenCreateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (caller.AgentMachine(http.User) is not null)
        {
            return await caller.RefuseAsync(Actions.TokenWrite, "/api/v1/tokens", AccessDecision.Forbidden, "agent credentials are machines, not people: they hold no personal tokens");
        }

        var errors = new ValidationErrors();
        var principal = Principals.Normalize(body!.Principal ?? caller.Principal, "principal", errors);
        TimeSpan? ttl = null;
        if (body.Ttl is not null)
        {
            if (!JitDuration.TryParse(body.Ttl, out var parsed) || parsed < TimeSpan.FromMinutes(1) || parsed > TimeSpan.FromDays(3650))
            {
                errors.Add("ttl", $"'{body.Ttl}' must be a duration between 1m and 3650d");
            }
            else
            {
                ttl = parsed;
            }
        }

        if (body.Description is { Length: > MaxDescriptionLength })
        {
            errors.Add("description", $"at most {MaxDescriptionLength} characters");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var scope = $"/api/v1/tokens?principal={principal}";
        if (principal != caller.Principal)
        {
            if (!(await caller.GetAsync(ct)).Allows(Actions.TokenWrite, caller.Subscription))
            {
                return await caller.RefuseAsync(Actions.TokenWrite, scope, AccessDecision.Forbidden, $"a token for {principal}, not for the caller");
            }

            if (!await db.Users.AnyAsync(u => u.Name == principal && u.DisabledUtc == null, ct))
            {
                return Problems.Validation("principal", $"there is no enabled user '{principal}'; add one first (drawbridge user add {principal})");
            }
        }

        var now = time.GetUtcNow();
        var secret = Secrets.Create(Secrets.UserTokenPrefix);
        var token = new ApiToken
        {
            Id = Guid.NewGuid(),
            Principal = principal!,
            TokenHash = Secrets.Hash(secret),
            Description = body.Description,
            CreatedUtc = now,
            ExpiresUtc = now + ttl,
        };
        db.ApiTokens.Add(token);
        audit.Record(http, Actions.TokenWrite, $"/api/v1/tokens/{token.Id}", AuditLog.Allowed, $"for {token.Principal}");
        await db.SaveChangesAsync(ct);

        var view = ToView(token);
        view.Token = secret;
        return TypedResults.Json(view, DrawbridgeJson.Wire.ApiTokenView, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(DrawbridgeDbContext db, CallerPermissions caller, CancellationToken ct)
    {
        var query = db.ApiTokens.AsNoTracking();
        if (!(await caller.GetAsync(ct)).Allows(Actions.TokenRead, caller.Subscription))
        {
            var me = caller.Principal;
            query = query.Where(t => t.Principal == me);
        }

        var tokens = await query.OrderBy(t => t.CreatedUtc).ToListAsync(ct);
        return TypedResults.Json(tokens.Select(ToView).ToList(), DrawbridgeJson.Wire.ListApiTokenView);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string id, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
    {
        var token = Guid.TryParse(id, out var tokenId) ? await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, ct) : null;
        var notFound = Problems.NotFound($"The token '{id}' could not be found.");
        if (token is null)
        {
            return notFound;
        }

        var scope = $"/api/v1/tokens/{id}";
        if (token.Principal != caller.Principal)
        {
            var permissions = await caller.GetAsync(ct);
            var decision = permissions.Allows(Actions.TokenDelete, caller.Subscription) ? AccessDecision.Allowed
                : permissions.Allows(Actions.TokenRead, caller.Subscription) ? AccessDecision.Forbidden : AccessDecision.NotFound;
            if (decision != AccessDecision.Allowed)
            {
                return await caller.RefuseAsync(Actions.TokenDelete, scope, decision, $"a token of {token.Principal}, not of the caller", notFound);
            }
        }

        token.RevokedUtc ??= time.GetUtcNow();
        audit.Record(http, Actions.TokenDelete, scope, AuditLog.Allowed, $"of {token.Principal}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(ToView(token), DrawbridgeJson.Wire.ApiTokenView);
    }

    private static ApiTokenView ToView(ApiToken t) => new()
    {
        Id = t.Id.ToString(),
        Principal = t.Principal,
        Description = t.Description,
        CreatedUtc = t.CreatedUtc,
        ExpiresUtc = t.ExpiresUtc,
        RevokedUtc = t.RevokedUtc,
    };
}
