using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Net;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Machines;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Jit;

/// <summary>
/// POST .../jitNetworkAccessPolicies/{name}/initiate: checks every asked port against the policy and the caller's
/// roles, then hands the request, its grants and the audit event to <see cref="InitiateWriter"/>, which writes them with
/// the superseded grants and new machine state versions in one transaction.
/// </summary>
internal sealed class InitiateHandler(
    DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, JitPolicyHandlers policies,
    InitiateWriter writer, CallerPermissions caller, IOptions<DrawbridgeOptions> options, TimeProvider time)
{
    public const int MaxMachinesPerRequest = 16;
    public const int MaxPortsPerMachine = 16;
    public const int MaxJustificationLength = 1024;

    public async Task<IResult> HandleAsync(HttpContext http, string resourceGroup, string location, string name, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.JitNetworkAccessPolicyInitiateRequest, ct);
        return problem ?? await HandleAsync(http, resourceGroup, location, name, body!, ct);
    }

    /// <summary>Initiates <paramref name="body"/>; RBAC is checked here, per machine.</summary>
    public async Task<IResult> HandleAsync(HttpContext http, string resourceGroup, string location, string name, JitNetworkAccessPolicyInitiateRequest body, CancellationToken ct)
    {
        var scope = ArmIds.JitPolicy(installation.SubscriptionId, resourceGroup, location, name);
        var policy = await policies.FindWithoutPortsAsync(resourceGroup, location, name, ct);
        if (policy is null)
        {
            await audit.RefuseAsync(http, Actions.JitInitiate, scope, "policy not found", ct);
            return JitPolicyHandlers.NotFound(name);
        }

        var now = time.GetUtcNow();
        var observed = ClientAddress.Observed(http);
        var errors = new ValidationErrors();
        var (decisions, refused) = await EvaluateAsync(body, policy, await caller.GetAsync(ct), observed, now, errors, ct);
        if (refused is not null)
        {
            return await caller.RefuseAsync(Actions.JitInitiate, ArmIds.VirtualMachine(installation.SubscriptionId, refused.ResourceGroup, refused.Name),
                AccessDecision.Forbidden, $"no role granting initiate at machine '{refused.Name}'");
        }

        if (errors.Any)
        {
            await audit.RefuseAsync(http, Actions.JitInitiate, scope, $"{errors.Items[0].Field}: {errors.Items[0].Message}", ct);
            return Problems.Validation(errors);
        }

        var requestor = http.User.Name();
        var request = new AccessRequest
        {
            Id = Guid.NewGuid(),
            PolicyId = policy.Id,
            Requestor = requestor,
            Justification = body.Justification,
            StartTimeUtc = now,
            ObservedAddress = observed.ToString(),
        };

        foreach (var (machine, decision) in decisions)
        {
            request.Grants.Add(new Grant
            {
                Id = Guid.NewGuid(),
                RequestId = request.Id,
                MachineId = machine.Id,
                Requestor = requestor,
                Ordinal = request.Grants.Count,
                Port = decision.Rule.Number,
                Protocol = decision.Rule.Protocol,
                Sources = string.Join(',', decision.Sources),
                EndTimeUtc = decision.EndTimeUtc,
                Status = GrantStatus.Approved,
            });
        }

        var recorded = audit.New(http, Actions.JitInitiate, scope, AuditLog.Allowed,
            string.Join("; ", request.Grants.Select(g => $"{decisions[g.Ordinal].Machine.Name}:{g.Port}/{g.Protocol.ToAzure()} from {g.Sources} until {g.EndTimeUtc:O}")));
        if (await writer.WriteAsync(new PendingInitiate(request, recorded), ct) is { } live)
        {
            var cap = options.Value.Limits.MaxActiveGrantsPerUser;
            var reason = $"{requestor} holds {live} live grant(s); {decisions.Count} more would pass the limit of {cap}. Revoke some first.";
            await audit.RefuseAsync(http, Actions.JitInitiate, scope, reason, ct);
            return Problems.Validation("virtualMachines", reason);
        }

        var machines = decisions.Select(d => d.Machine).DistinctBy(m => m.Id).ToDictionary(m => m.Id);
        var response = JitMapping.ToArm(request, installation.SubscriptionId, machines);
        return TypedResults.Json(response, DrawbridgeJson.Wire.JitNetworkAccessRequest, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// Checks every asked port against the policy and the caller's right to initiate on each machine. A machine the
    /// caller may not see reads exactly like one that does not exist; one they see but may not open is returned as
    /// <c>Refused</c> (a 403, whatever else is wrong with the body).
    /// </summary>
    private async Task<(List<(Machine Machine, PortAccessDecision Decision)> Decisions, Machine? Refused)> EvaluateAsync(
        JitNetworkAccessPolicyInitiateRequest body, JitPolicy policy, Permissions permissions, IpPrefix observed, DateTimeOffset now, ValidationErrors errors, CancellationToken ct)
    {
        var decisions = new List<(Machine, PortAccessDecision)>();
        Machine? refused = null;
        if (body.Justification is { Length: > MaxJustificationLength })
        {
            errors.Add("justification", $"at most {MaxJustificationLength} characters");
        }

        var vms = body.VirtualMachines;
        if (vms is null || vms.Count == 0 || vms.Count > MaxMachinesPerRequest)
        {
            errors.Add("virtualMachines", $"between 1 and {MaxMachinesPerRequest} virtual machines are required");
            return (decisions, refused);
        }

        var minimum = options.Value.Jit.MinimumRequestDurationValue;
        var seen = new HashSet<Guid>();
        for (var i = 0; i < vms.Count; i++)
        {
            var path = $"virtualMachines[{i}]";
            if (vms[i] is null)
            {
                errors.Add(path, "must be an object with id and ports");
                continue;
            }

            var machine = await db.FindByIdAsync(installation, vms[i].Id, ct);
            var access = machine is null ? AccessDecision.NotFound : permissions.Decide(Actions.JitInitiate, caller.Machine(machine));
            if (machine is null || access == AccessDecision.NotFound)
            {
                errors.Add($"{path}.id", $"'{vms[i].Id}' is not a known virtual machine");
                continue;
            }

            if (access == AccessDecision.Forbidden)
            {
                refused ??= machine;
                continue;
            }

            var rules = (await policies.PortsOfAsync(policy.Id, machine.Id, ct)).ConvertAll(ToRule);
            if (rules.Count == 0)
            {
                errors.Add($"{path}.id", $"virtual machine '{machine.Name}' is not part of policy '{policy.Name}'");
                continue;
            }

            if (!seen.Add(machine.Id))
            {
                errors.Add($"{path}.id", $"virtual machine '{machine.Name}' is listed twice");
                continue;
            }

            var ports = vms[i].Ports;
            if (ports is null || ports.Count == 0 || ports.Count > MaxPortsPerMachine)
            {
                errors.Add($"{path}.ports", $"between 1 and {MaxPortsPerMachine} ports are required");
                continue;
            }

            var numbers = new HashSet<int>();
            for (var j = 0; j < ports.Count; j++)
            {
                var p = ports[j];
                if (p is null)
                {
                    errors.Add($"{path}.ports[{j}]", "must be an object with a number");
                    continue;
                }

                var ask = new PortAccessAsk(p.Number, p.Duration, p.EndTimeUtc, p.AllowedSourceAddressPrefix, p.AllowedSourceAddressPrefixes);
                var decision = GrantEvaluator.Evaluate(rules, ask, observed, now, minimum, $"{path}.ports[{j}]", errors);
                if (decision is not null && !numbers.Add(decision.Rule.Number))
                {
                    errors.Add($"{path}.ports[{j}].number", $"port {decision.Rule.Number} is listed twice");
                }
                else if (decision is not null)
                {
                    decisions.Add((machine, decision));
                }
            }
        }

        return (decisions, refused);
    }

    private static JitPortRule ToRule(JitPolicyPort port) => new(
        port.Number,
        port.Protocol,
        JitMapping.SplitList(port.AllowedSources).Select(IpPrefix.Parse).ToList(),
        TimeSpan.FromSeconds(port.MaxDurationSeconds));
}
