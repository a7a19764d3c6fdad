using System.Security.Claims;
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
/// Requesters see their own requests; anyone else's is a 404, as if it did not exist.
/// </summary>
internal sealed class RequestHandlers(
    DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, MachineStateNotifier notifier, TimeProvider time)
{
    public const int MaxListed = 500;

    public async Task<IResult> ListAsync(ClaimsPrincipal user, bool active, CancellationToken ct)
    {
        var query = Visible(user);
        if (active)
        {
            var now = time.GetUtcNow();
            query = query.Where(r => r.Grants.Any(g => GrantLifecycle.Live.Contains(g.Status) && g.EndTimeUtc > now));
        }

        var requests = await query.OrderByDescending(r => r.StartTimeUtc).Take(MaxListed).ToListAsync(ct);
        var machines = await MachinesOfAsync(requests, ct);
        var list = new ArmList<JitNetworkAccessRequest> { Value = requests.Select(r => JitMapping.ToArm(r, installation.SubscriptionId, machines)).ToList() };
        return TypedResults.Json(list, DrawbridgeJson.Wire.ArmListJitNetworkAccessRequest);
    }

    public async Task<IResult> GetAsync(ClaimsPrincipal user, string id, CancellationToken ct)
    {
        var request = Guid.TryParse(id, out var requestId) ? await Visible(user).SingleOrDefaultAsync(r => r.Id == requestId, ct) : null;
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
        var request = requestId == Guid.Empty ? null : await Visible(http.User).SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null)
        {
            await audit.RefuseAsync(http, AuditActions.Revoke, scope, "request not found or not visible to the caller", ct);
            return NotFound(id);
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
        if (ended > 0)
        {
            foreach (var machineId in live)
            {
                await db.BumpAsync(machineId, ct);
            }
        }

        audit.Record(http, AuditActions.Revoke, scope, AuditLog.Allowed, ended > 0 ? $"{ended} grant(s) revoked" : "nothing left to revoke");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        notifier.Publish(live);

        return await GetAsync(http.User, id, ct);
    }

    public static IResult NotFound(string id) => Problems.NotFound($"The just-in-time access request '{id}' could not be found.");

    private IQueryable<AccessRequest> Visible(ClaimsPrincipal user)
    {
        var query = db.AccessRequests.AsNoTracking().Include(r => r.Grants);
        if (user.CanReadEverything())
        {
            return query;
        }

        var name = user.Name();
        return query.Where(r => r.Requestor == name);
    }

    private Task<Dictionary<Guid, Machine>> MachinesOfAsync(IEnumerable<AccessRequest> requests, CancellationToken ct)
    {
        var ids = requests.SelectMany(r => r.Grants).Select(g => g.MachineId).Distinct().ToList();
        return db.Machines.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
    }
}
