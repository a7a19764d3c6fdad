using System.Security.Claims;
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
/// A revoked or expired token fails at once: every request looks the hash up again.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    DrawbridgeDbContext db, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

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
            return AuthenticateResult.Fail("malformed bearer token");
        }

        var hash = Secrets.Hash(secret);
        var ct = Context.RequestAborted;
        if (secret.StartsWith(Secrets.AgentCredentialPrefix, StringComparison.Ordinal))
        {
            var machine = await db.Machines.AsNoTracking()
                .Where(m => m.AgentCredentialHash == hash)
                .Select(m => new { m.Id, m.Name })
                .SingleOrDefaultAsync(ct);
            return machine is null
                ? AuthenticateResult.Fail("unknown agent credential")
                : Success(new Claim(ClaimTypes.Name, $"agent:{machine.Name}"), new Claim(DrawbridgeClaims.MachineId, machine.Id.ToString()));
        }

        var now = time.GetUtcNow();
        var token = await db.ApiTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (token is null || token.RevokedUtc is not null || token.ExpiresUtc <= now)
        {
            return AuthenticateResult.Fail("unknown, revoked or expired token");
        }

        return Success(new Claim(ClaimTypes.Name, token.Principal), new Claim(ClaimTypes.Role, token.Role));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.Unauthorized("A valid bearer token is required (Authorization: Bearer <token>).").ExecuteAsync(Context);

    /// <summary>A refusal by role is a security decision too: it is audited before the 403 goes out.</summary>
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var audit = Context.RequestServices.GetRequiredService<AuditLog>();
        await audit.RefuseAsync(Context, $"http:{Request.Method}", Request.Path.ToString(), "the caller's role does not allow this action", Context.RequestAborted);
        await Problems.Forbidden("Your role does not allow this action.").ExecuteAsync(Context);
    }

    private static AuthenticateResult Success(params Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
}
