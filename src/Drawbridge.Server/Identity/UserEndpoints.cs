using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Local user accounts: a name, an optional password for the web UI (hashed with ASP.NET Core Identity's PBKDF2
/// hasher), and a disabled flag that stops the user's password, tokens and OIDC sign-ins at once.
/// </summary>
internal static class UserEndpoints
{
    public const int MinPasswordLength = 12;
    public const int MaxPasswordLength = 256;
    public const int MaxDisplayNameLength = 128;

    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/v1/users").WithTags("Identity");
        users.MapGet("", async (DrawbridgeDbContext db, CancellationToken ct) =>
            TypedResults.Json((await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct)).Select(ToView).ToList(), DrawbridgeJson.Wire.ListUserView))
            .RequireAction(Actions.UserRead);
        users.MapPost("", CreateAsync).RequireAction(Actions.UserWrite);
        users.MapPost("/{name}/disable", (HttpContext http, string name, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
            => SetDisabledAsync(http, name, disable: true, db, audit, caller, time, ct)).RequireAction(Actions.UserWrite);
        users.MapPost("/{name}/enable", (HttpContext http, string name, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
            => SetDisabledAsync(http, name, disable: false, db, audit, caller, time, ct)).RequireAction(Actions.UserWrite);
        return app;
    }

    public static IPasswordHasher<User> Hasher { get; } = new PasswordHasher<User>();

    private static async Task<IResult> CreateAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.UserCreateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var name = Principals.Normalize(body!.Name, "name", errors);
        if (body.DisplayName is { } display && (display.Length > MaxDisplayNameLength || display.Any(char.IsControl)))
        {
            errors.Add("displayName", $"at most {MaxDisplayNameLength} printable characters");
        }

        if (body.Password is { } password && (password.Length < MinPasswordLength || password.Length > MaxPasswordLength))
        {
            errors.Add("password", $"between {MinPasswordLength} and {MaxPasswordLength} characters");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        if (await db.Users.AnyAsync(u => u.Name == name, ct))
        {
            return Problems.Conflict($"The user '{name}' already exists.", "name");
        }

        var user = new User
        {
            Id = Guid.NewGuid(),
            Name = name!,
            DisplayName = body.DisplayName,
            CreatedUtc = time.GetUtcNow(),
            CreatedBy = caller.Principal,
        };
        if (body.Password is not null)
        {
            user.PasswordHash = Hasher.HashPassword(user, body.Password);
        }

        db.Users.Add(user);
        audit.Record(http, Actions.UserWrite, $"/api/v1/users/{user.Name}", AuditLog.Allowed, body.Password is null ? "added" : "added with a password");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(ToView(user), DrawbridgeJson.Wire.UserView, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> SetDisabledAsync(HttpContext http, string name, bool disable, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller,
        TimeProvider time, CancellationToken ct)
    {
        var key = name.ToLowerInvariant();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == key, ct);
        if (user is null)
        {
            return Problems.NotFound($"The user '{name}' could not be found.");
        }

        if (disable && user.Name == caller.Principal)
        {
            return Problems.Conflict("You cannot disable yourself; ask another Owner.", "name");
        }

        user.DisabledUtc = disable ? user.DisabledUtc ?? time.GetUtcNow() : null;
        audit.Record(http, Actions.UserWrite, $"/api/v1/users/{user.Name}", AuditLog.Allowed, disable ? "disabled" : "enabled");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(ToView(user), DrawbridgeJson.Wire.UserView);
    }

    private static UserView ToView(User u) => new()
    {
        Name = u.Name,
        DisplayName = u.DisplayName,
        HasPassword = u.PasswordHash is not null,
        CreatedUtc = u.CreatedUtc,
        DisabledUtc = u.DisabledUtc,
    };
}
