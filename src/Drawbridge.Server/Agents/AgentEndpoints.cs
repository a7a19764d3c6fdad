using System.Net;
using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Options;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Agents;

/// <summary>The agent channel: enroll once, then long-poll the desired state and report what was applied.</summary>
internal static class AgentEndpoints
{
    public const int MaxAddresses = 32;

    // Compiled once: every poll and report reads its machine (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, Guid, CancellationToken, Task<Machine>>> MachineById =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, Guid machineId, CancellationToken ct) => db.Machines.AsNoTracking().Single(m => m.Id == machineId)));

    public static IServiceCollection AddAgents(this IServiceCollection services) =>
        services.AddMemoryCache().AddSingleton<MachineStateNotifier>().AddSingleton<ResolvedSecurityGroups>().AddSingleton<DesiredStateBuilder>()
            .AddSingleton<AppliedReportWriter>();

    public static IEndpointRouteBuilder MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/agent/v1").WithTags("Agent");
        agent.MapPost("/enroll", (HttpContext http, DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, TimeProvider time, CancellationToken ct)
            => EnrollAsync(http, db, audit, installation, time, ct)).AllowAnonymous().RequireRateLimiting(RateLimits.Enroll);

        // An agent credential reads and reports its own machine and nothing else.
        var authenticated = agent.MapGroup("");
        authenticated.MapGet("/state", (long? after, HttpContext http, IServiceScopeFactory scopes, MachineStateNotifier notifier,
            DesiredStateBuilder states, IOptions<DrawbridgeOptions> options, TimeProvider time, CancellationToken ct)
            => PollStateAsync(after ?? 0, AuthenticatedAgent.Of(http), scopes, notifier, states, options.Value, time, ct))
            .RequireAction(Actions.AgentStateRead, ActionScope.CallerMachine);
        authenticated.MapPost("/applied", async (HttpContext http, AppliedReportWriter reports, InstallationContext installation, TimeProvider time, CancellationToken ct)
            => await ReportAsync(http, AuthenticatedAgent.Of(http), reports, installation, time, ct) ?? TypedResults.NoContent())
            .RequireAction(Actions.AgentApply, ActionScope.CallerMachine);

        // The report of the last state and the poll for the next in one request: a change reaching a fleet costs
        // each agent two requests instead of three (bench/README.md, "Fan-out"). Reporting is the stronger right.
        authenticated.MapPost("/state", async (long? after, HttpContext http, AppliedReportWriter reports, InstallationContext installation,
            IServiceScopeFactory scopes, MachineStateNotifier notifier, DesiredStateBuilder states, IOptions<DrawbridgeOptions> options, TimeProvider time,
            CancellationToken ct) =>
        {
            var machine = AuthenticatedAgent.Of(http);
            return await ReportAsync(http, machine, reports, installation, time, ct)
                ?? await PollStateAsync(after ?? 0, machine, scopes, notifier, states, options.Value, time, ct);
        }).RequireAction(Actions.AgentApply, ActionScope.CallerMachine);

        // Machines enroll into the default resource group, so the right is needed at the subscription.
        app.MapPost("/api/v1/enrollment-tokens", (HttpContext http, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
            => CreateEnrollmentTokenAsync(http, db, audit, time, ct)).WithTags("Agents").RequireAction(Actions.EnrollmentTokenWrite);
        return app;
    }

    private static async Task<IResult> EnrollAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, InstallationContext installation, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.AgentEnrollRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var name = body!.Name ?? body.Hostname;
        if (!ArmIds.IsValidName(name))
        {
            errors.Add("name", $"'{name}' is not a valid machine name (letters, digits, '.', '_', '-'; at most 80)");
        }

        var addresses = body.Addresses ?? [];
        if (addresses.Count > MaxAddresses)
        {
            errors.Add("addresses", $"at most {MaxAddresses} addresses");
        }

        for (var i = 0; i < Math.Min(addresses.Count, MaxAddresses); i++)
        {
            if (!IPAddress.TryParse(addresses[i], out _))
            {
                errors.Add($"addresses[{i}]", $"'{addresses[i]}' is not an IP address");
            }
        }

        if (string.IsNullOrEmpty(body.Token))
        {
            errors.Add("token", "is required");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        var tokenHash = Secrets.Hash(body.Token!);
        var scope = ArmIds.VirtualMachine(installation.SubscriptionId, InstallationContext.DefaultResourceGroup, name!);
        await using var tx = await db.Database.BeginTransactionAsync(ct);

        // Spend one use of the token in the same statement that checks it, so two agents cannot share the last use.
        var spent = await db.EnrollmentTokens
            .Where(t => t.TokenHash == tokenHash && t.UsesLeft > 0 && t.ExpiresUtc > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsesLeft, t => t.UsesLeft - 1), ct);
        if (spent == 0)
        {
            await tx.RollbackAsync(ct);
            await audit.RefuseAsync(http, Actions.AgentEnroll, scope, "unknown, used up or expired enrollment token", ct);
            return Problems.Unauthorized("The enrollment token is unknown, used up or expired.");
        }

        var key = ArmIds.Key(name!);
        var machine = await db.Machines.SingleOrDefaultAsync(m => m.ResourceGroup == InstallationContext.DefaultResourceGroup && m.NameKey == key, ct);
        if (machine?.AgentCredentialHash is not null)
        {
            await tx.RollbackAsync(ct);
            await audit.RefuseAsync(http, Actions.AgentEnroll, scope, "machine already has an agent", ct);
            return Problems.Conflict($"Machine '{name}' already has an enrolled agent; choose another --name.", "name");
        }

        var credential = Secrets.Create(Secrets.AgentCredentialPrefix);
        if (machine is null)
        {
            machine = new Machine
            {
                Id = Guid.NewGuid(),
                ResourceGroup = InstallationContext.DefaultResourceGroup,
                Name = name!,
                NameKey = key,
                CreatedUtc = now,
                StateVersion = 1,
            };
            db.Machines.Add(machine);
        }

        machine.Hostname = body.Hostname;
        machine.OsType = body.OsType is "Windows" ? "Windows" : "Linux";
        machine.Addresses = string.Join(',', addresses);
        machine.AgentCredentialHash = Secrets.Hash(credential);
        machine.AgentLastSeenUtc = now;
        audit.Record("agent:" + name, Actions.AgentEnroll, scope, http.Connection.RemoteIpAddress?.ToString(), AuditLog.Allowed);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        return TypedResults.Json(new AgentEnrollResponse { MachineId = scope, MachineName = machine.Name, Credential = credential },
            DrawbridgeJson.Wire.AgentEnrollResponse, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// Answers at once when the machine's version differs from <paramref name="after"/>; otherwise waits for a change
    /// in this process. On PostgreSQL it also re-reads the version every couple of seconds, for changes made by other
    /// replicas; an SQLite database has this process as its only writer, so its signal is enough (with 10,000 agents
    /// the re-reads alone were 5,000 queries a second).
    /// The machine is the row authentication read (<see cref="AuthenticatedAgent"/>); a version this process published
    /// after that read and before the signal was taken is in <see cref="MachineStateNotifier.Published"/>.
    /// The machine's row is shared with other requests of the same batch of credential lookups, so it is not changed.
    /// A waiting poll holds no database context: each read takes a pooled one from a scope of its own and gives it back.
    /// Held through the wait, a fleet of 10,000 agents held 10,000 contexts, 9,000 of them beyond the pool and built
    /// anew for every poll (bench/README.md, "Fan-out"); the authentication before it does the same.
    /// </summary>
    private static async Task<IResult> PollStateAsync(long after, Machine machine, IServiceScopeFactory scopes,
        MachineStateNotifier notifier, DesiredStateBuilder states, DrawbridgeOptions options, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var timeout = options.Agent.LongPollTimeoutValue;
        var deadline = now + timeout;
        var recheck = options.Database.Provider == DatabaseProvider.Sqlite ? timeout : TimeSpan.FromSeconds(2);
        var machineId = machine.Id;
        var signal = notifier.Signal(machineId);
        var version = Math.Max(machine.StateVersion, notifier.Published(machineId));

        // Last-seen drives the Online/Offline status; writing it at most every 30 s keeps most polls read-only.
        var stale = now - TimeSpan.FromSeconds(30);
        if (machine.AgentLastSeenUtc is null || machine.AgentLastSeenUtc < stale)
        {
            await ReadAsync(scopes, db => db.Machines.Where(m => m.Id == machineId && (m.AgentLastSeenUtc == null || m.AgentLastSeenUtc < stale))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentLastSeenUtc, now), ct));
        }

        while (true)
        {
            if (version != after)
            {
                return TypedResults.Json(await states.BuildAsync(machine, version, ct), DrawbridgeJson.Wire.DesiredState);
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return TypedResults.NoContent();
            }

            // Waited for without throwing. An idle agent's poll times out every 30 s, and a fleet's polls are all
            // cancelled at once when it goes away (a dropped network path); each was an exception, and a cancelled
            // poll's was thrown again by every middleware on its way out (bench/README.md, "Fan-out").
            var wait = signal.WaitAsync(left < recheck ? left : recheck, time, ct);
            await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (ct.IsCancellationRequested)
            {
                return TypedResults.Empty; // the agent has gone: nobody reads an answer
            }

            long? published = null;
            if (wait.IsCompletedSuccessfully)
            {
                published = wait.Result;
            }
            else
            {
                // Timed out. Observed, so that its finalizer does not report it as unobserved; re-read below, since
                // another replica may have changed the state.
                _ = wait.Exception;
            }

            signal = notifier.Signal(machineId);
            if (published > version)
            {
                // The publisher said which version it committed: one query less before the state is built.
                version = published.Value;
            }
            else
            {
                machine = await ReadAsync(scopes, db => MachineById.For(db)(db, machineId, ct));
                version = machine.StateVersion;
            }
        }
    }

    private static async Task<T> ReadAsync<T>(IServiceScopeFactory scopes, Func<DrawbridgeDbContext, Task<T>> read)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>());
    }

    /// <summary>Writes the agent's report of what it applied; a problem when the report is not valid (nothing written), else null.</summary>
    private static async Task<IResult?> ReportAsync(HttpContext http, Machine machine, AppliedReportWriter reports,
        InstallationContext installation, TimeProvider time, CancellationToken ct)
    {
        var (report, problem) = await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.AgentAppliedReport, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (report!.Version < 0 || report.Version > machine.StateVersion)
        {
            return Problems.Validation("version", $"{report.Version} is not a version this server published (latest is {machine.StateVersion})");
        }

        var listening = report.ListeningPorts is { } ports
            ? string.Join(',', ports.Where(PostureAssessment.ManagementPorts.Contains).Distinct().Order())
            : null;
        var filters = report.OtherInputFilters is { } reported
            ? string.Join('\n', reported.Where(f => !string.IsNullOrWhiteSpace(f)).Take(16).Select(f => f.Length > 200 ? f[..200] : f))
            : null;
        await reports.WriteAsync(new AppliedReport(
            machine.Id, ArmIds.VirtualMachine(installation.SubscriptionId, machine.ResourceGroup, machine.Name), http.User.Name(),
            http.Connection.RemoteIpAddress?.ToString(), time.GetUtcNow(), report.Version,
            report.Error is { Length: > 1024 } e ? e[..1024] : report.Error, report.DriftRepaired, listening, filters), ct);
        return null;
    }

    private static async Task<IResult> CreateEnrollmentTokenAsync(HttpContext http, DrawbridgeDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        // The body is optional, but a chunked one has no Content-Length: whether a body came is the server's to say.
        var hasBody = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? http.Request.ContentLength > 0;
        var (body, problem) = !hasBody
            ? (new EnrollmentTokenCreateRequest(), null)
            : await JsonBody.ReadAsync(http.Request, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var uses = body!.Uses ?? 1;
        if (uses is < 1 or > 10_000)
        {
            errors.Add("uses", $"{uses} is outside 1..10000");
        }

        var ttl = TimeSpan.FromHours(1);
        if (body.Ttl is not null && (!JitDuration.TryParse(body.Ttl, out ttl) || ttl < TimeSpan.FromMinutes(1) || ttl > TimeSpan.FromDays(30)))
        {
            errors.Add("ttl", $"'{body.Ttl}' must be a duration between 1m and 30d");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        var token = Secrets.Create(Secrets.EnrollmentTokenPrefix);
        db.EnrollmentTokens.Add(new EnrollmentToken
        {
            Id = Guid.NewGuid(),
            TokenHash = Secrets.Hash(token),
            UsesLeft = uses,
            ExpiresUtc = now + ttl,
            CreatedBy = http.User.Name(),
            CreatedUtc = now,
        });
        audit.Record(http, Actions.EnrollmentTokenWrite, "/", AuditLog.Allowed, $"{uses} use(s), expires {now + ttl:O}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Json(new EnrollmentTokenCreated { Token = token, Uses = uses, ExpiresUtc = now + ttl },
            DrawbridgeJson.Wire.EnrollmentTokenCreated, statusCode: StatusCodes.Status201Created);
    }
}
