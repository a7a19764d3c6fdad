using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Personal API tokens: created by an Owner for a principal and one built-in role, shown once, stored as a hash,
/// listed without their secret, revoked at once (every request looks the hash up again).
/// </summary>
internal static class TokenEndpoints
{
    public const int MaxPrincipalLength = 128;
    public const int MaxDescriptionLength = 256;

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/v1/tokens").WithTags("Identity").RequireAuthorization(Policies.ManageTokens);
        tokens.MapPost("", (HttpContext http, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct) => CreateAsync(http, db, audit, time, ct));
        tokens.MapGet("", async (DrawbridgeDbContext db, CancellationToken ct) =>
            TypedResults.Json((await db.ApiTokens.AsNoTracking().OrderBy(t => t.CreatedUtc).ToListAsync(ct)).Select(ToView).ToList(), DrawbridgeJson.Wire.ListApiTokenView));
        tokens.MapDelete("/{id}", (HttpContext http, string id, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct) => RevokeAsync(http, id, db, audit, time, ct));
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.ApiTokenCreateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(body!.Principal) || body.Principal.Length > MaxPrincipalLength || body.Principal.Any(char.IsControl)
            || body.Principal.StartsWith("agent:", StringComparison.Ordinal) || body.Principal == "system")
        {
            errors.Add("principal", $"a name of 1..{MaxPrincipalLength} printable characters is required (not 'system' or 'agent:...')");
        }

        var role = Roles.All.FirstOrDefault(r => string.Equals(r, body.Role, StringComparison.OrdinalIgnoreCase));
        if (role is null)
        {
            errors.Add("role", $"'{body.Role}' is not a role ({string.Join(", ", Roles.All)})");
        }

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

        var now = time.GetUtcNow();
        var secret = Secrets.Create(Secrets.UserTokenPrefix);
        var token = new ApiToken
        {
            Id = Guid.NewGuid(),
            Principal = body.Principal!.Trim(),
            Role = role!,
            TokenHash = Secrets.Hash(secret),
            Description = body.Description,
            CreatedUtc = now,
            ExpiresUtc = now + ttl,
        };
        db.ApiTokens.Add(token);
        audit.Record(http, AuditActions.TokenCreate, $"/api/v1/tokens/{token.Id}", AuditLog.Allowed, $"{token.Principal} as {token.Role}");
        await db.SaveChangesAsync(ct);

        var view = ToView(token);
        view.Token = secret;
        return TypedResults.Json(view, DrawbridgeJson.Wire.ApiTokenView, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string id, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var token = Guid.TryParse(id, out var tokenId) ? await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, ct) : null;
        if (token is null)
        {
            return Problems.NotFound($"The token '{id}' could not be found.");
        }

        token.RevokedUtc ??= time.GetUtcNow();
        audit.Record(http, AuditActions.TokenRevoke, $"/api/v1/tokens/{token.Id}", AuditLog.Allowed, $"{token.Principal} as {token.Role}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(ToView(token), DrawbridgeJson.Wire.ApiTokenView);
    }

    private static ApiTokenView ToView(ApiToken t) => new()
    {
        Id = t.Id.ToString(),
        Principal = t.Principal,
        Role = t.Role,
        Description = t.Description,
        CreatedUtc = t.CreatedUtc,
        ExpiresUtc = t.ExpiresUtc,
        RevokedUtc = t.RevokedUtc,
    };
}
