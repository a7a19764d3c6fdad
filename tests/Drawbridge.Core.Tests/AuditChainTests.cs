using Drawbridge.Audit;

namespace Drawbridge.Core.Tests;

public class AuditChainTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static List<(AuditRecord Record, string Previous, string Hash)> Chain(int count)
    {
        var chain = new List<(AuditRecord, string, string)>();
        var previous = AuditChain.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var record = new AuditRecord(i, T.AddSeconds(i), "alice", "initiate", $"/vm/{i}", "198.18.0.100", "Allowed", i % 2 == 0 ? null : "why");
            var hash = AuditChain.Hash(previous, record);
            chain.Add((record, previous, hash));
            previous = hash;
        }

        return chain;
    }

    private static AuditBreak? Verify(IEnumerable<(AuditRecord Record, string Previous, string Hash)> events)
    {
        var verifier = new AuditChainVerifier();
        return events.Select(e => verifier.Add(e.Record, e.Previous, e.Hash)).FirstOrDefault(b => b is not null);
    }

    [Fact]
    public void Verify_IntactChain_Holds()
    {
        var verifier = new AuditChainVerifier();
        foreach (var (record, previous, hash) in Chain(5))
        {
            Assert.Null(verifier.Add(record, previous, hash));
        }

        Assert.Equal(5, verifier.Checked);
        Assert.Equal(Chain(5)[^1].Hash, verifier.Head);
    }

    [Fact]
    public void Verify_EditedEvent_IsNamed()
    {
        var chain = Chain(5);
        chain[2] = (chain[2].Record with { Result = "Refused" }, chain[2].Previous, chain[2].Hash);
        Assert.Equal(new AuditBreak(3, "its content does not match its hash: edited"), Verify(chain));
    }

    [Fact]
    public void Verify_RemovedEvent_IsNamed()
    {
        var chain = Chain(5);
        chain.RemoveAt(1);
        Assert.Equal(3, Verify(chain)!.Sequence);
    }

    [Fact]
    public void Verify_SwappedEvents_AreNamed()
    {
        var chain = Chain(5);
        (chain[1], chain[2]) = (chain[2] with { Record = chain[2].Record with { Sequence = 2 } }, chain[1] with { Record = chain[1].Record with { Sequence = 3 } });
        Assert.Equal(2, Verify(chain)!.Sequence);
    }

    [Fact]
    public void Hash_FieldBoundariesMatter()
    {
        var a = new AuditRecord(1, T, "ab", "c", "s", null, "Allowed", null);
        var b = new AuditRecord(1, T, "a", "bc", "s", null, "Allowed", null);
        var c = new AuditRecord(1, T, "ab", "c", "s", "", "Allowed", null);
        Assert.NotEqual(AuditChain.Hash(AuditChain.Genesis, a), AuditChain.Hash(AuditChain.Genesis, b));
        Assert.NotEqual(AuditChain.Hash(AuditChain.Genesis, a), AuditChain.Hash(AuditChain.Genesis, c));
    }

    [Fact]
    public void Truncate_KeepsMilliseconds() =>
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, 123, TimeSpan.Zero), AuditChain.Truncate(new DateTimeOffset(2026, 1, 1, 0, 0, 0, 123, TimeSpan.Zero).AddTicks(4567)));
}
