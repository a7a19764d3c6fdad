using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Http;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Machines;
using Drawbridge.Server.Posture;
using Drawbridge.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Web.Shared;

/// <summary>One machine as the pages show it: its assessment, its JIT ports and policy, its agent.</summary>
public sealed class FleetMachine
{
    internal FleetMachine(Machine machine, PostureResult posture, JitPolicy? policy, IReadOnlyList<JitPolicyPort> jitPorts, string? agentStatus)
    {
        (Machine, Posture, Policy, JitPorts, AgentStatus) = (machine, posture, policy, jitPorts, agentStatus);
    }

    internal Machine Machine { get; }

    public PostureResult Posture { get; }

    internal JitPolicy? Policy { get; }

    internal IReadOnlyList<JitPolicyPort> JitPorts { get; }

    public string? AgentStatus { get; }

    public string Url => MachineUrl(Machine.ResourceGroup, Machine.Name);

    /// <summary>How forms name a machine: resource group and name.</summary>
    public string Key => $"{Machine.ResourceGroup}/{Machine.Name}";

    public bool JitEnabled => JitPorts.Count > 0;

    /// <summary>JIT needs a Drawbridge agent on the machine to enforce it; imported machines have none.</summary>
    public string? UnsupportedReason => PostureInputs.JitUnavailable(Machine);

    public static string MachineUrl(string resourceGroup, string name) => $"/machines/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name)}";
}

/// <summary>A machine's JIT use in a period, from the requests the viewer may see.</summary>
public sealed record MachineUse(int Requests, DateTimeOffset LastAccess, string LastUser);

/// <summary>Loads what the pages show about machines and requests, filtered by what the viewer's roles cover.</summary>
internal sealed class Fleet(DrawbridgeDbContext db, RequestHandlers requests, TimeProvider time)
{
    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>The machines the viewer holds <paramref name="action"/> at, in name order; only those named "group/name" if given.</summary>
    public async Task<List<FleetMachine>> LoadAsync(Viewer viewer, string action, CancellationToken ct, IReadOnlyCollection<string>? only = null)
    {
        var query = db.Machines.AsNoTracking();
        if (only is not null)
        {
            var keys = only.Select(ArmIds.Key).ToList();
            query = query.Where(m => keys.Contains(m.ResourceGroup + "/" + m.NameKey));
        }

        var machines = (await query.OrderBy(m => m.NameKey).ThenBy(m => m.ResourceGroup).ToListAsync(ct))
            .Where(m => viewer.Can(action, viewer.Caller.Machine(m)))
            .ToList();
        var ids = machines.Select(m => m.Id).ToList();
        var ports = (await db.JitPolicyPorts.AsNoTracking().Where(p => ids.Contains(p.MachineId)).OrderBy(p => p.Ordinal).ToListAsync(ct)).ToLookup(p => p.MachineId);
        var policyIds = ports.SelectMany(g => g.Select(p => p.PolicyId)).Distinct().ToList();
        var policies = await db.JitPolicies.AsNoTracking().Where(p => policyIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        var now = Now;
        return (await PostureInputs.LoadAsync(db, machines, ct)).Select(p =>
        {
            var own = ports[p.Machine.Id].ToList();
            return new FleetMachine(p.Machine, PostureAssessment.Assess(p.Input), own.Count > 0 ? policies[own[0].PolicyId] : null, own,
                MachineEndpoints.AgentStatus(p.Machine, now));
        }).ToList();
    }

    /// <summary>
    /// Requests the viewer may see (their own, or at machines where they read requests) started since then, newest
    /// first, at most as many as a page lists; optionally only those with a grant on one machine.
    /// </summary>
    public async Task<List<AccessRequest>> RequestsSinceAsync(DateTimeOffset since, CancellationToken ct, Guid? machine = null)
    {
        var query = (await requests.VisibleAsync(ct)).Where(r => r.StartTimeUtc >= since);
        if (machine is { } id)
        {
            query = query.Where(r => r.Grants.Any(g => g.MachineId == id));
        }

        return await query.OrderByDescending(r => r.StartTimeUtc).Take(RequestHandlers.MaxListed).ToListAsync(ct);
    }

    /// <summary>Every grant of the requests the viewer may see started since then, as small rows: for counts and charts, which must not stop at a page's worth.</summary>
    public async Task<List<GrantRow>> GrantsSinceAsync(DateTimeOffset since, CancellationToken ct) =>
        await (await requests.VisibleAsync(ct)).Where(r => r.StartTimeUtc >= since)
            .Join(db.Grants, r => r.Id, g => g.RequestId, (r, g) => new GrantRow(r.Id, r.StartTimeUtc, r.Requestor, g.MachineId, g.Status, g.EndTimeUtc))
            .ToListAsync(ct);

    /// <summary>Per machine: how many requests opened it in the period, and the latest one's time and requester.</summary>
    public static Dictionary<Guid, MachineUse> UseByMachine(IEnumerable<GrantRow> grants) => grants
        .Where(g => g.Status is not (GrantStatus.Denied or GrantStatus.PendingApproval or GrantStatus.Cancelled))
        .GroupBy(g => g.MachineId)
        .ToDictionary(g => g.Key, g =>
        {
            var latest = g.MaxBy(x => x.Requested)!;
            return new MachineUse(g.Select(x => x.RequestId).Distinct().Count(), latest.Requested, latest.Requestor);
        });

    public Task<Dictionary<Guid, Machine>> MachinesOfAsync(IEnumerable<AccessRequest> list, CancellationToken ct) => requests.MachinesOfAsync(list, ct);

    public Task<Dictionary<Guid, Machine>> MachinesAsync(IEnumerable<Guid> ids, CancellationToken ct)
    {
        var wanted = ids.Distinct().ToList();
        return db.Machines.AsNoTracking().Where(m => wanted.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
    }

    /// <summary>A grant's state as it is now: one past its end time is Expired even before the expiry service has said so.</summary>
    public static GrantStatus StateOf(GrantStatus status, DateTimeOffset endTimeUtc, DateTimeOffset now) =>
        status.IsLive() && endTimeUtc <= now ? GrantStatus.Expired : status;

    public static GrantStatus StateOf(Grant grant, DateTimeOffset now) => StateOf(grant.Status, grant.EndTimeUtc, now);
}

/// <summary>One grant as the overview and the JIT tabs count it.</summary>
internal sealed record GrantRow(Guid RequestId, DateTimeOffset Requested, string Requestor, Guid MachineId, GrantStatus Status, DateTimeOffset EndTimeUtc);
