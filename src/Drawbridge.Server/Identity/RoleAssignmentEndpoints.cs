using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Who holds which built-in role where. Assignments apply at their scope and below. Nobody assigns roles to
/// themselves, and the last Owner at the subscription cannot be removed, so the installation cannot lock itself out.
/// </summary>
internal static class RoleAssignmentEndpoints
{
    public static IEndpointRouteBuilder MapRoleAssignmentEndpoints(this IEndpointRouteBuilder app)
    {
        var assignments = app.MapGroup("/api/v1/role-assignments").WithTags("Identity");
        assignments.MapGet("", ListAsync).RequireAction(Actions.RoleAssignmentRead, ActionScope.Within);
        assignments.MapPost("", CreateAsync).RequireAction(Actions.RoleAssignmentWrite, ActionScope.Within);
        assignments.MapDelete("/{id}", DeleteAsync).RequireAction(Actions.RoleAssignmentDelete, ActionScope.Within);

        app.MapGet("/api/v1/role-definitions", () => TypedResults.Json(BuiltInRoles.All.Select(r => new RoleDefinitionView
        {
            Name = r.Name,
            Description = r.Description,
            Actions = [.. r.Actions],
            NotActions = [.. r.NotActions],
        }).ToList(), DrawbridgeJson.Wire.ListRoleDefinitionView)).WithTags("Identity").AllowAnyCaller("the built-in roles are the same for everyone");
        return app;
    }

    private static async Task<IResult> ListAsync(string? principal, DrawbridgeDbContext db, CallerPermissions caller, CancellationToken ct)
    {
        var query = db.RoleAssignments.AsNoTracking();
        if (principal is not null)
        {
            var key = principal.ToLowerInvariant();
            query = query.Where(a => a.Principal == key);
        }

        var permissions = await caller.GetAsync(ct);
        var rows = (await query.OrderBy(a => a.Scope).ThenBy(a => a.Principal).ThenBy(a => a.Role).ToListAsync(ct))
            .Where(a => AccessScope.TryParse(a.Scope, out var scope) && permissions.Allows(Actions.RoleAssignmentRead, scope))
            .Select(ToView)
            .ToList();
        return TypedResults.Json(rows, DrawbridgeJson.Wire.ListRoleAssignmentView);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.RoleAssignmentCreateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var principal = Principals.Normalize(body!.Principal, "principal", errors);
        var role = BuiltInRoles.Find(body.Role);
        if (role is null || !BuiltInRoles.Assignable.Contains(role))
        {
            errors.Add("role", $"'{body.Role}' is not an assignable role ({string.Join(", ", BuiltInRoles.Assignable.Select(r => r.Name))})");
        }

        var scope = body.Scope is null ? caller.Subscription : AccessScope.TryParse(body.Scope, out var parsed) ? parsed : null;
        if (scope is null)
        {
            errors.Add("scope", $"'{body.Scope}' is not a scope (/subscriptions/{{id}}, then /resourceGroups/{{rg}}, then /providers/Microsoft.Compute/virtualMachines/{{name}})");
        }
        else if (!caller.Subscription.Contains(scope))
        {
            errors.Add("scope", $"'{body.Scope}' is not in this installation's subscription");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var key = scope!.Key;
        if (principal == caller.Principal)
        {
            await audit.RefuseAsync(http, Actions.RoleAssignmentWrite, key, $"{principal} tried to assign a role to themselves", ct);
            return Problems.Forbidden("Nobody can assign roles to themselves; ask another Owner.");
        }

        var decision = (await caller.GetAsync(ct)).Decide(Actions.RoleAssignmentWrite, scope);
        if (decision != AccessDecision.Allowed)
        {
            return await caller.RefuseAsync(Actions.RoleAssignmentWrite, key, decision);
        }

        // Only now, so a caller without rights there cannot learn whether a group or machine exists.
        if (!await ExistsAsync(db, scope, ct))
        {
            return Problems.Validation("scope", $"'{body.Scope}' does not exist");
        }

        if (await db.RoleAssignments.AnyAsync(a => a.Principal == principal && a.Role == role!.Name && a.Scope == key, ct))
        {
            return Problems.Conflict($"{principal} already holds {role!.Name} at {key}.");
        }

        var assignment = new RoleAssignment
        {
            Id = Guid.NewGuid(),
            Principal = principal!,
            Role = role!.Name,
            Scope = key,
            CreatedUtc = time.GetUtcNow(),
            CreatedBy = caller.Principal,
        };
        db.RoleAssignments.Add(assignment);
        audit.Record(http, Actions.RoleAssignmentWrite, key, AuditLog.Allowed, $"{assignment.Principal} as {assignment.Role}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(ToView(assignment), DrawbridgeJson.Wire.RoleAssignmentView, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string id, DrawbridgeDbContext db, AuditLog audit, CallerPermissions caller, CancellationToken ct)
    {
        var assignment = Guid.TryParse(id, out var assignmentId) ? await db.RoleAssignments.SingleOrDefaultAsync(a => a.Id == assignmentId, ct) : null;
        var notFound = Problems.NotFound($"The role assignment '{id}' could not be found.");
        if (assignment is null || !AccessScope.TryParse(assignment.Scope, out var scope))
        {
            return notFound;
        }

        var decision = (await caller.GetAsync(ct)).Decide(Actions.RoleAssignmentDelete, scope);
        if (decision != AccessDecision.Allowed)
        {
            return await caller.RefuseAsync(Actions.RoleAssignmentDelete, assignment.Scope, decision, notFound: notFound);
        }

        // Delete first, count after: saving the audit event takes the chain's lock (an advisory lock on PostgreSQL,
        // the write lock on SQLite) until commit, so two replicas removing the last two Owners cannot both see one left.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.RoleAssignments.Remove(assignment);
        audit.Record(http, Actions.RoleAssignmentDelete, assignment.Scope, AuditLog.Allowed, $"{assignment.Principal} as {assignment.Role}");
        await db.SaveChangesAsync(ct);
        var subscription = caller.Subscription.Key;
        var owner = BuiltInRoles.Owner.Name;
        if (!await db.RoleAssignments.AnyAsync(a => a.Role == owner && a.Scope == subscription, ct))
        {
            await tx.RollbackAsync(ct);
            return Problems.Conflict("This is the last Owner of the subscription; assign another Owner first.");
        }

        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static Task<bool> ExistsAsync(DrawbridgeDbContext db, AccessScope scope, CancellationToken ct)
    {
        var (rg, vm) = (scope.ResourceGroupKey, scope.MachineKey);
        return scope.Level switch
        {
            ScopeLevel.Subscription => Task.FromResult(true),
            ScopeLevel.ResourceGroup => db.ResourceGroups.AnyAsync(r => r.NameKey == rg, ct),
            _ => db.Machines.AnyAsync(m => m.ResourceGroup == rg && m.NameKey == vm, ct),
        };
    }

    public static RoleAssignmentView ToView(RoleAssignment a) => new()
    {
        Id = a.Id.ToString(),
        Principal = a.Principal,
        Role = a.Role,
        Scope = a.Scope,
        CreatedUtc = a.CreatedUtc,
        CreatedBy = a.CreatedBy,
    };
}
