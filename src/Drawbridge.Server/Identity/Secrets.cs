using System.Security.Cryptography;
using System.Text;

namespace Drawbridge.Server.Identity;

/// <summary>
/// Bearer secrets: 256 random bits behind a prefix that says what the secret is (dbt_ user token, dba_ agent
/// credential, dbe_ enrollment token). Only a SHA-256 of a secret is stored; with 256 bits of entropy a slow hash
/// adds nothing, and lookup by hash means the secret itself is never compared in a data-dependent way.
/// </summary>
internal static class Secrets
{
    public const string UserTokenPrefix = "dbt_";
    public const string AgentCredentialPrefix = "dba_";
    public const string EnrollmentTokenPrefix = "dbe_";

    public static string Create(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
