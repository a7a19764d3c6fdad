using System.Security.Claims;
using Drawbridge.Authorization;
using System.Text.Encodings.Web;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Http;
using Drawbridge.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Accepts "Authorization: Bearer dbt_..." (a user's API token) and "Bearer dba_..." (an agent's credential).
/// A revoked or expired token fails at once: every request looks the hash up again, with a pooled database context
/// of its own that it gives back at once: the request's would be held through an agent's long-poll (up to 30 s).
/// Agent credentials are looked up many at once (<see cref="AgentCredentials"/>).
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IServiceScopeFactory scopes, AgentCredentials agents, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    // Compiled once: every API call authenticates (why: Storage/CompiledPerModel).
    private static readonly CompiledPerModel<Func<DrawbridgeDbContext, string, CancellationToken, Task<TokenRow?>>> TokenByHash =
        new(() => EF.CompileAsyncQuery((DrawbridgeDbContext db, string hash, CancellationToken ct) => db.ApiTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new TokenRow(t.Principal, t.RevokedUtc, t.ExpiresUtc, db.Users.Any(u => u.Name == t.Principal && u.DisabledUtc != null)))
            .SingleOrDefault()));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var secret = header["Bearer ".Length..].Trim();
        if (secret.Length is < 16 or > 512)
        {
            return await FailAsync("malformed bearer token");
        }

        var hash = Secrets.Hash(secret);
        var ct = Context.RequestAborted;
        if (secret.StartsWith(Secrets.AgentCredentialPrefix, StringComparison.Ordinal))
        {
            var machine = await agents.FindAsync(hash, ct);
            if (machine is null)
            {
                return await FailAsync("unknown agent credential");
            }

            Context.Features.Set(new AuthenticatedAgent(machine));
            return Success("agent", new Claim(ClaimTypes.Name, $"agent:{machine.Name}"),
                    new Claim(DrawbridgeClaims.MachineResourceGroup, machine.ResourceGroup), new Claim(DrawbridgeClaims.MachineName, machine.Name));
        }

        // One round trip on every API call: the token and whether its user is disabled.
        var now = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DrawbridgeDbContext>();
        var token = await TokenByHash.For(db)(db, hash, ct);
        if (token is null || token.RevokedUtc is not null || token.ExpiresUtc <= now)
        {
            return await FailAsync("unknown, revoked or expired token");
        }

        if (token.Disabled)
        {
            return await FailAsync($"user '{token.Principal}' is disabled");
        }

        return Success("token", new Claim(ClaimTypes.Name, token.Principal));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.Unauthorized("A valid bearer token is required (Authorization: Bearer <token>).").ExecuteAsync(Context);

    /// <summary>A presented credential that does not work is a refused decision: audited, with the caller's address.</summary>
    private async Task<AuthenticateResult> FailAsync(string reason)
    {
        var audit = Context.RequestServices.GetRequiredService<AuditLog>();
        await audit.RefuseAsync(Context, Actions.Authenticate, Request.Path.ToString(), reason, Context.RequestAborted);
        return AuthenticateResult.Fail(reason);
    }

    private static AuthenticateResult Success(string authenticatedBy, params Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, authenticatedBy)), SchemeName));

    private sealed record TokenRow(string Principal, DateTimeOffset? RevokedUtc, DateTimeOffset? ExpiresUtc, bool Disabled);
}
