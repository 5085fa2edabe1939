using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Frames through a connection's shared segment (docs/protocol.md): the byte ring itself (pieces across its end, a
/// full ring taking only what fits, counts a peer spoiled), and a connection whose frames moved there: messages both
/// ways after the switch, and the socket's end still ending the reader as it did over TCP.
/// </summary>
public sealed class FrameRingTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void BytesCrossTheRingsEndInOrderAndAFullRingTakesOnlyWhatFits()
    {
        using var segment = SharedSegment.Create(4096, 4096, out _);
        var writer = segment.NewToServerFrames();
        var reader = segment.NewToServerFrames();
        var sent = new byte[FrameRing.Capacity * 2];
        new Random(7).NextBytes(sent);
        var got = new byte[sent.Length];

        Assert.Equal(200_000, writer.TryWrite(sent.AsSpan(0, 200_000)));
        Assert.Equal(150_000, reader.TryRead(got.AsSpan(0, 150_000)));
        // 50 000 bytes wait: the next write wraps past the ring's end and takes only the room left.
        int room = FrameRing.Capacity - 50_000;
        Assert.Equal(room, writer.TryWrite(sent.AsSpan(200_000, 250_000)));
        Assert.Equal(0, writer.TryWrite(sent.AsSpan(200_000 + room, 10)));
        int read = 150_000;
        while (reader.TryRead(got.AsSpan(read, 30_000)) is var n and > 0)
        {
            read += n;
        }

        Assert.Equal(200_000 + room, read);
        Assert.Equal(sent.AsSpan(0, read).ToArray(), got.AsSpan(0, read).ToArray());
        Assert.Equal(0, reader.TryRead(got.AsSpan(read, 10)));
    }

    [Fact]
    public unsafe void CountsAPeerSpoiledAreAnErrorNotAWildRead()
    {
        using var segment = SharedSegment.Create(4096, 4096, out _);
        var reader = segment.NewToServerFrames();
        var writer = segment.NewToServerFrames();
        byte* data = segment.Acquire();
        try
        {
            // The client → server writer's published count (u64 at 192), far beyond what the ring holds.
            *(long*)(data + 192) = 1L << 40;
            Assert.Throws<IOException>(() => reader.TryRead(new byte[16]));
            // And a consumed count (u64 at 256) ahead of everything written.
            *(long*)(data + 256) = 1L << 40;
            Assert.Throws<IOException>(() => writer.TryWrite(new byte[16]));
        }
        finally
        {
            segment.Release();
        }
    }

    [Fact]
    public async Task AfterTheSwitchMessagesGoBothWaysAndTheSocketsEndEndsTheReader()
    {
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (client, server) = await _fx.ConnectedPairAsync(limits);
        await using var _ = server;
        Assert.Equal("shared memory", client.TensorPath);

        // More than the frame ring holds, so writer and reader take turns at its end; small tensors ride inline.
        for (int i = 1; i <= 40; i++)
        {
            var small = Tensor.FromArray(Enumerable.Range(0, 4000).Select(v => (float)(v * i)).ToArray(), [4000]);
            var sending = client.Writer.SendAsync(FrameType.Result, (ulong)i, new WireWriter().U16(1).Written, [new("t", small)], default);
            var frame = await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default);
            Assert.Equal((FrameType.Result, (ulong)i), (frame!.Type, frame.RequestId));
            var tensor = await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default);
            Assert.Equal(small.ToArray<float>(), tensor!.Tensor!.ToArray<float>());
            await sending;
            await server.Writer.SendAsync(FrameType.Pong, (ulong)i, null, default);
            Assert.Equal(((ulong)i, FrameType.Pong), ((await client.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.RequestId, FrameType.Pong));
        }

        // The server waits for the next frame in the ring; the client goes away: the socket's end reaches it at once.
        var waiting = server.Reader.ReadAsync(Timeout.InfiniteTimeSpan, default).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await client.DisposeAsync();
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
