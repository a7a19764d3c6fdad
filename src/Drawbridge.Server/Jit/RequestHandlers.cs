using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Jit;

/// <summary>
/// Drawbridge extension: requests as resources of their own, to follow one until it is Active and to revoke it.
/// Everyone sees and revokes their own requests; others' need the request actions at a machine of the request
/// (read) or at all of them (revoke). A request the caller may not see is a 404, as if it did not exist.
/// </summary>
internal sealed class RequestHandlers(
    DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, MachineStateNotifier notifier, CallerPermissions caller, TimeProvider time,
    ArmPaging paging)
{
    public const int MaxListed = 500;

    public async Task<IResult> ListAsync(bool active, CancellationToken ct)
    {
        var query = await VisibleAsync(ct);
        if (active)
        {
            var now = time.GetUtcNow();
            query = query.Where(r => r.Grants.Any(g => GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now));
        }

        var requests = await query.OrderByDescending(r => r.StartTimeUtc).Take(MaxListed).ToListAsync(ct);
        var machines = await MachinesOfAsync(requests, ct);
        return paging.Json(requests.Select(r => JitMapping.ToArm(r, installation.SubscriptionId, machines)).ToList(), DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest);
    }

    public async Task<IResult> GetAsync(string id, CancellationToken ct)
    {
        var request = Guid.TryParse(id, out var requestId) ? await (await VisibleAsync(ct)).SingleOrDefaultAsync(r => r.Id == requestId, ct) : null;
        if (request is null)
        {
            return NotFound(id);
        }

        var machines = await MachinesOfAsync([request], ct);
        return TypedResults.Json(JitMapping.ToArm(request, installation.SubscriptionId, machines), DrawbridgeJson.Wire.JitNetworkAccessRequest);
    }

    public async Task<IResult> RevokeAsync(HttpContext http, string id, CancellationToken ct)
    {
        var scope = Guid.TryParse(id, out var requestId) ? ArmIds.JitRequest(installation.SubscriptionId, requestId) : id;
        var request = requestId == Guid.Empty ? null : await (await VisibleAsync(ct)).SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null)
        {
            await audit.RefuseAsync(http, Actions.JitRequestRevoke, scope, "request not found or not visible to the caller", ct);
            return NotFound(id);
        }

        if (request.Requestor != caller.Principal)
        {
            var permissions = await caller.GetAsync(ct);
            var machines = await MachinesOfAsync([request], ct);
            if (!machines.Values.All(m => permissions.Allows(Actions.JitRequestRevoke, caller.Machine(m))))
            {
                await audit.RefuseAsync(http, Actions.JitRequestRevoke, scope, "another principal's request, and no role granting revoke at all its machines", ct);
                return Problems.Forbidden($"You may not perform '{Actions.JitRequestRevoke}' on another principal's request here.");
            }
        }

        var now = time.GetUtcNow();
        var live = request.Grants.Where(g => g.Status.IsLive()).Select(g => g.MachineId).Distinct().ToList();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ended = await db.Grants
            .Where(g => g.RequestId == request.Id && GrantLifecycle.Live.Contains(g.Status))
            .ExecuteUpdateAsync(s => s
                .SetProperty(g => g.Status, GrantStatus.Revoked)
                .SetProperty(g => g.EndReason, GrantEndReason.UserRequested)
                .SetProperty(g => g.EndedBy, http.User.Name())
                .SetProperty(g => g.EndedUtc, now), ct);
        var versions = ended > 0 ? await db.BumpAllAsync(live, ct) : new Dictionary<Guid, long>();

        audit.Record(http, Actions.JitRequestRevoke, scope, AuditLog.Allowed, ended > 0 ? $"{ended} grant(s) revoked" : "nothing left to revoke");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        notifier.Publish(versions);

        return await GetAsync(id, ct);
    }

    public static IResult NotFound(string id) => Problems.NotFound($"The just-in-time access request '{id}' could not be found.");

    /// <summary>True when the request is the principal's own or they read requests at one of its machines.</summary>
    public static bool IsVisible(AccessRequest request, string principal, Permissions permissions, IReadOnlyDictionary<Guid, Machine> machines, CallerPermissions caller) =>
        request.Requestor == principal
        || request.Grants.Any(g => machines.TryGetValue(g.MachineId, out var m) && permissions.Allows(Actions.JitRequestRead, caller.Machine(m)));

    /// <summary>The same rule as <see cref="IsVisible"/>, as a query.</summary>
    public async Task<IQueryable<AccessRequest>> VisibleAsync(CancellationToken ct)
    {
        var query = db.AccessRequests.AsNoTracking().Include(r => r.Grants);
        var permissions = await caller.GetAsync(ct);
        if (permissions.Allows(Actions.JitRequestRead, caller.Subscription))
        {
            return query;
        }

        var name = caller.Principal;
        if (!permissions.AllowsWithin(Actions.JitRequestRead, caller.Subscription))
        {
            return query.Where(r => r.Requestor == name);
        }

        var machines = await db.Machines.AsNoTracking().Select(m => new { m.Id, m.ResourceGroup, m.Name }).ToListAsync(ct);
        var readable = machines.Where(m => permissions.Allows(Actions.JitRequestRead, caller.Machine(m.ResourceGroup, m.Name))).Select(m => m.Id).ToList();
        return query.Where(r => r.Requestor == name || r.Grants.Any(g => readable.Contains(g.MachineId)));
    }

    public Task<Dictionary<Guid, Machine>> MachinesOfAsync(IEnumerable<AccessRequest> requests, CancellationToken ct)
    {
        var ids = requests.SelectMany(r => r.Grants).Select(g => g.MachineId).Distinct().ToList();
        return db.Machines.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
    }
}
