using Drawbridge.Jit;
using Drawbridge.Net;
using Microsoft.Extensions.Options;

namespace Drawbridge.Server.Options;

/// <summary>Everything under the "Drawbridge" configuration section; validated together at start-up.</summary>
internal sealed class DrawbridgeOptions
{
    public const string Section = "Drawbridge";

    public string DataDirectory { get; set; } = "./data";
    public string Location { get; set; } = "local";
    public DatabaseOptions Database { get; set; } = new();
    public BootstrapOptions Bootstrap { get; set; } = new();
    public JitOptions Jit { get; set; } = new();
    public AgentOptions Agent { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Addresses or prefixes of reverse proxies whose X-Forwarded-For is believed.</summary>
    public List<string> TrustedProxies { get; set; } = [];
}

internal enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}

internal sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite the file is {DataDirectory}/drawbridge.db unless given.</summary>
    public string? ConnectionString { get; set; }
}

internal sealed class BootstrapOptions
{
    /// <summary>An Owner API token to accept, for automation; at least 32 characters.</summary>
    public string? OwnerToken { get; set; }
}

internal sealed class JitOptions
{
    /// <summary>Shortest grant and shortest policy maximum; PT5M as in Azure. Labs and tests lower it to seconds.</summary>
    public string MinimumRequestDuration { get; set; } = JitDuration.ToIso(JitDuration.DefaultMinimum);

    public TimeSpan MinimumRequestDurationValue => JitDuration.Parse(MinimumRequestDuration);
}

internal sealed class AgentOptions
{
    /// <summary>How long a state long-poll is held open when nothing changes.</summary>
    public string LongPollTimeout { get; set; } = "PT30S";

    public TimeSpan LongPollTimeoutValue => JitDuration.Parse(LongPollTimeout);
}

/// <summary>Limits at the edge; a request past one gets a 429 or a clear 400, never partial work.</summary>
internal sealed class LimitOptions
{
    /// <summary>Initiate calls per principal per minute.</summary>
    public int InitiatePerMinute { get; set; } = 60;

    /// <summary>Agent enrollment attempts per source address per minute (guessing tokens is pointless, but costs writes).</summary>
    public int EnrollPerMinute { get; set; } = 30;

    /// <summary>Password sign-in attempts per source address per minute.</summary>
    public int LoginPerMinute { get; set; } = 10;

    /// <summary>Live grants one principal may hold at once.</summary>
    public int MaxActiveGrantsPerUser { get; set; } = 50;

    /// <summary>Items per page of an ARM list; more come through its nextLink, as in Azure.</summary>
    public int PageSize { get; set; } = 100;
}

/// <summary>
/// Bearer JWTs from an OpenID Connect issuer (Entra ID, Keycloak, Dex...). Off unless Issuer is set. Keys come from
/// a JWKS URL (fetched and refreshed) or a JWKS file; issuer, audience, lifetime and signature are all validated.
/// </summary>
internal sealed class OidcOptions
{
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    public string? JwksUrl { get; set; }
    public string? JwksFile { get; set; }

    /// <summary>The claim that names the principal (role assignments refer to it), lower-cased.</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>
    /// Sign-in to the web UI through the provider (authorization code flow with PKCE) as this client; the provider's
    /// discovery document is read from the issuer. Without it, OIDC is for bearer tokens only.
    /// </summary>
    public string? WebClientId { get; set; }

    /// <summary>For providers that require a confidential client; PKCE is used either way.</summary>
    public string? WebClientSecret { get; set; }

    /// <summary>The provider's name on the sign-in button ("Sign in with ...").</summary>
    public string WebDisplayName { get; set; } = "single sign-on";

    public bool Enabled => !string.IsNullOrEmpty(Issuer);

    public bool WebSignIn => Enabled && !string.IsNullOrEmpty(WebClientId);
}

internal sealed class ValidateDrawbridgeOptions : IValidateOptions<DrawbridgeOptions>
{
    public ValidateOptionsResult Validate(string? name, DrawbridgeOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("Drawbridge:DataDirectory must not be empty.");
        }

        if (options.Database.Provider == DatabaseProvider.PostgreSQL && string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            errors.Add("Drawbridge:Database:ConnectionString is required when Drawbridge:Database:Provider is PostgreSQL.");
        }

        if (options.Bootstrap.OwnerToken is { } token && token.Length < 32)
        {
            errors.Add("Drawbridge:Bootstrap:OwnerToken must be at least 32 characters long.");
        }

        if (!JitDuration.TryParse(options.Jit.MinimumRequestDuration, out var minimum) || minimum < TimeSpan.FromSeconds(1) || minimum > JitDuration.PolicyCeiling)
        {
            errors.Add($"Drawbridge:Jit:MinimumRequestDuration '{options.Jit.MinimumRequestDuration}' must be a duration between 1s and P1D.");
        }

        if (!JitDuration.TryParse(options.Agent.LongPollTimeout, out var poll) || poll < TimeSpan.FromSeconds(1) || poll > TimeSpan.FromMinutes(5))
        {
            errors.Add($"Drawbridge:Agent:LongPollTimeout '{options.Agent.LongPollTimeout}' must be a duration between 1s and 5m.");
        }

        if (options.Location.Length is 0 or > 40 || !options.Location.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            errors.Add("Drawbridge:Location must be 1..40 lower-case letters or digits.");
        }

        if (options.Limits.InitiatePerMinute < 1 || options.Limits.EnrollPerMinute < 1 || options.Limits.LoginPerMinute < 1 || options.Limits.MaxActiveGrantsPerUser < 1 || options.Limits.PageSize < 1)
        {
            errors.Add("Drawbridge:Limits values must be at least 1.");
        }

        if (options.Oidc.Enabled)
        {
            if (string.IsNullOrWhiteSpace(options.Oidc.Audience))
            {
                errors.Add("Drawbridge:Oidc:Audience is required when Drawbridge:Oidc:Issuer is set.");
            }

            if (string.IsNullOrEmpty(options.Oidc.JwksUrl) == string.IsNullOrEmpty(options.Oidc.JwksFile))
            {
                errors.Add("Drawbridge:Oidc needs exactly one of JwksUrl and JwksFile.");
            }
            else if (options.Oidc.JwksUrl is { Length: > 0 } url && !IsHttpsOrLoopback(url))
            {
                errors.Add("Drawbridge:Oidc:JwksUrl must be an https URL (http only on loopback).");
            }
            else if (options.Oidc.JwksFile is { Length: > 0 } file && !File.Exists(file))
            {
                errors.Add($"Drawbridge:Oidc:JwksFile '{file}' does not exist.");
            }

            if (options.Oidc.WebSignIn && !IsHttpsOrLoopback(options.Oidc.Issuer!))
            {
                errors.Add("Drawbridge:Oidc:Issuer must be an https URL for web sign-in (its discovery document is read from it; http only on loopback).");
            }
        }
        else if (!string.IsNullOrEmpty(options.Oidc.WebClientId))
        {
            errors.Add("Drawbridge:Oidc:WebClientId needs Drawbridge:Oidc:Issuer (and Audience, JwksUrl or JwksFile).");
        }

        foreach (var proxy in options.TrustedProxies)
        {
            if (!IpPrefix.TryParse(proxy, out _, out var error))
            {
                errors.Add($"Drawbridge:TrustedProxies: {error}.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsHttpsOrLoopback(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}
