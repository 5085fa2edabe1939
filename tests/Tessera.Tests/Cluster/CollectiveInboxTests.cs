using Tessera.Cluster.Collective;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Kernels.Collective;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The worker's store of other ranks' collective blocks: a block that arrives early waits for its rank; a missing
/// rank fails at the timeout naming the rank and the key; an abort or a lost peer fails at once; runs never mix.
/// </summary>
public sealed class CollectiveInboxTests
{
    private static readonly Guid s_coordinator = Guid.NewGuid();

    private static GroupRun Run(ulong request, int rank = 0) => new(new GroupRunId(s_coordinator, request, 0), rank, ["127.0.0.1:7001", "127.0.0.1:7002"], WireDataType.Float32);

    private static CollectiveMessage Block(string key, int sender) => new(CollectiveKind.Block, sender, 2, 0, s_coordinator, key, string.Empty);

    private static byte[] Pooled(params byte[] bytes)
    {
        byte[] block = System.Buffers.ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(block, 0);
        return block;
    }

    private static long In(TimeSpan span) => System.Diagnostics.Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    [Fact]
    public void EarlyBlocksWaitForTheirRunAndKeyAndRunsDoNotMix()
    {
        var inbox = new CollectiveInbox();
        inbox.Deliver(2, Block("k", 1), Pooled(9, 9), 2);
        inbox.Deliver(1, Block("k", 1), Pooled(1, 2), 2);
        var run = Run(1);
        inbox.Begin(run);
        var got = new byte[2];
        inbox.Take(run, "k", 1, got, In(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5));
        Assert.Equal([1, 2], got);
        inbox.End(run.Id);

        // A late block of an ended run is dropped, not kept for ever; another run's block is still there.
        inbox.Deliver(1, Block("k2", 1), Pooled(3), 1);
        var other = Run(2);
        inbox.Begin(other);
        inbox.Take(other, "k", 1, got, In(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5));
        Assert.Equal([9, 9], got);
        var wrongLength = Assert.Throws<CollectiveException>(() => { inbox.Deliver(2, Block("k3", 1), Pooled(1, 2, 3), 3); inbox.Take(other, "k3", 1, got, In(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5)); });
        Assert.Contains("rank 1 sent 3 bytes, this rank has 2", wrongLength.Message);
    }

    [Fact]
    public void ANarrowedBlockIsWidenedIntoItsFloatsAndMustHoldHalfTheirBytes()
    {
        var inbox = new CollectiveInbox();
        var run = Run(3);
        inbox.Begin(run);
        float[] values = [1.5f, -2.25f, 65504f, 1e-7f];
        byte[] narrowed = new byte[values.Length * 2];
        BitConverter.TryWriteBytes(narrowed.AsSpan(0), BitConverter.HalfToUInt16Bits((Half)values[0]));
        BitConverter.TryWriteBytes(narrowed.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)values[1]));
        BitConverter.TryWriteBytes(narrowed.AsSpan(4), BitConverter.HalfToUInt16Bits((Half)values[2]));
        BitConverter.TryWriteBytes(narrowed.AsSpan(6), BitConverter.HalfToUInt16Bits((Half)values[3]));
        inbox.Deliver(3, Block("k", 1) with { Wire = WireDataType.Float16 }, Pooled(narrowed), narrowed.Length);
        var got = new float[values.Length];
        inbox.Take(run, "k", 1, System.Runtime.InteropServices.MemoryMarshal.AsBytes(got.AsSpan()), In(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5));
        Assert.Equal(values.Select(v => (float)(Half)v), got);

        inbox.Deliver(3, Block("k2", 1) with { Wire = WireDataType.BFloat16 }, Pooled(narrowed), narrowed.Length);
        var e = Assert.Throws<CollectiveException>(() => inbox.Take(run, "k2", 1, new byte[12], In(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5)));
        Assert.Contains("rank 1 sent 8 bytes of bfloat16, this rank has 12", e.Message);
    }

    [Fact]
    public void AMissingRankTimesOutNamingTheRankAndTheKey()
    {
        var inbox = new CollectiveInbox();
        var run = Run(7);
        inbox.Begin(run);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.ThrowsAny<CollectiveException>(() => inbox.Take(run, "tp3:/mlp/MatMul", 1, new byte[4], In(TimeSpan.FromMilliseconds(200)), TimeSpan.FromMilliseconds(200)));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.15, 5);
        Assert.Equal("collective 'tp3:/mlp/MatMul' of request 7: rank 1 at 127.0.0.1:7002 sent nothing within 0.2 s", e.Message);
    }

    [Fact]
    public void AnAbortOrALostPeerStopsTheWaitAtOnce()
    {
        var inbox = new CollectiveInbox();
        var run = Run(3);
        inbox.Begin(run);
        var waiting = Task.Run(() => inbox.Take(run, "k", 1, new byte[4], In(TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(30)));
        Thread.Sleep(100);
        inbox.AbortPeer("127.0.0.1:7002", "closed its connection");
        var lost = Assert.ThrowsAny<CollectiveException>(() => waiting.GetAwaiter().GetResult());
        Assert.Equal("collective 'k' of request 3: rank 1 at 127.0.0.1:7002 closed its connection", lost.Message);

        var next = Run(4);
        inbox.Begin(next);
        inbox.Deliver(4, new CollectiveMessage(CollectiveKind.Abort, 1, 2, 0, s_coordinator, string.Empty, "worker b: stage 0 rank 1: bad input"), null, 0);
        var gaveUp = Assert.Throws<CollectiveException>(() => inbox.Take(next, "k", 1, new byte[4], In(TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(30)));
        Assert.Equal("collective 'k' of request 4: rank 1 gave up: worker b: stage 0 rank 1: bad input", gaveUp.Message);
    }
}
