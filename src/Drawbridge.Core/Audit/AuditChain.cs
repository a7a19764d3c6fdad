using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Drawbridge.Audit;

/// <summary>The fields of one audit event that its hash covers, in chain order.</summary>
public sealed record AuditRecord(
    long Sequence, DateTimeOffset TimeUtc, string Actor, string Action, string Scope, string? SourceAddress, string Result, string? Reason);

/// <summary>
/// SHA-256 hash chain over audit events: each event's hash covers its own fields and the previous event's hash, so
/// editing, removing or reordering any event breaks every link after it. (Cutting events off the end is only seen
/// against a head hash kept elsewhere; see docs/architecture.md.)
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    public static string Hash(string previousHash, AuditRecord record)
    {
        // Length-prefixed fields: no two different events can serialize to the same bytes.
        var sb = new StringBuilder(previousHash);
        foreach (var field in new[]
        {
            record.Sequence.ToString(CultureInfo.InvariantCulture),
            record.TimeUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            record.Actor, record.Action, record.Scope, record.SourceAddress, record.Result, record.Reason,
        })
        {
            sb.Append('|').Append(field is null ? "-1" : field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>Audit times are kept to the millisecond, which every store round-trips exactly.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
}

/// <summary>
/// Checks a chain one event at a time, in sequence order, so a chain of any length is verified in constant memory.
/// </summary>
public sealed class AuditChainVerifier
{
    public string Head { get; private set; } = AuditChain.Genesis;
    public long Checked { get; private set; }

    /// <summary>Checks the next event; returns why it breaks the chain, or null when it continues it.</summary>
    public AuditBreak? Add(AuditRecord record, string storedPreviousHash, string storedHash)
    {
        if (record.Sequence != Checked + 1)
        {
            return new AuditBreak(record.Sequence, $"event {Checked + 1} is missing (found {record.Sequence} next): removed");
        }

        if (storedPreviousHash != Head)
        {
            return new AuditBreak(record.Sequence, "does not follow the event before it: an event was removed, inserted or reordered");
        }

        if (AuditChain.Hash(Head, record) != storedHash)
        {
            return new AuditBreak(record.Sequence, "its content does not match its hash: edited");
        }

        Head = storedHash;
        Checked++;
        return null;
    }
}

public sealed record AuditBreak(long Sequence, string Reason);
