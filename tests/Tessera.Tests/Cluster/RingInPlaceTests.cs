using System.Runtime.InteropServices;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Received tensors kept in the shared ring rather than copied out (a worker's stage inputs): the writer cannot pass
/// a kept piece until it is given back, pieces come back in any order, and the consumed position then moves past
/// every piece back before the oldest one still kept.
/// </summary>
public sealed class RingInPlaceTests : IDisposable
{
    private const int PieceFloats = 4096; // 16 KiB: four fill the 64 KiB ring
    private static readonly WireEncoding Raw = new(DataType.Float32, DataType.Float32);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void KeptPiecesHoldTheWriterBackUntilEveryOneBeforeTheRoomIsGivenBack()
    {
        using var segment = SharedSegment.Create(64 * 1024, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();
        var positions = new long[4];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(writer.TryWrite(Piece(i), Raw, out positions[i]));
        }

        Assert.False(writer.TryWrite(Piece(4), Raw, out _)); // full

        var a = reader.ReadInPlace(positions[0], DataType.Float32, [PieceFloats], PieceFloats * sizeof(float));
        reader.Read(positions[1], new byte[PieceFloats * sizeof(float)], Raw); // copied out, behind a
        var c = reader.ReadInPlace(positions[2], DataType.Float32, [PieceFloats], PieceFloats * sizeof(float));
        reader.Read(positions[3], new byte[PieceFloats * sizeof(float)], Raw);
        Assert.Equal(Values(0), a.ToArray<float>());
        Assert.Equal(Values(2), c.ToArray<float>());
        Assert.IsType<RingLease>(a.StorageOwner);
        Assert.False(writer.TryWrite(Piece(4), Raw, out _)); // a holds everything after it back

        ((RingLease)c.StorageOwner!).Dispose();
        Assert.False(writer.TryWrite(Piece(4), Raw, out _)); // c is back, but a, before it, is not

        ((RingLease)a.StorageOwner!).Dispose();
        ((RingLease)a.StorageOwner!).Dispose(); // a second give-back does nothing
        for (int i = 4; i < 8; i++)
        {
            Assert.True(writer.TryWrite(Piece(i), Raw, out positions[i - 4])); // a, b, c and d are all free again
        }

        Assert.False(writer.TryWrite(Piece(8), Raw, out _));
        var e = new float[PieceFloats];
        reader.Read(positions[0], MemoryMarshal.AsBytes(e.AsSpan()), Raw); // nothing kept: consumed at once
        Assert.Equal(Values(4), e);
        Assert.True(writer.TryWrite(Piece(8), Raw, out _));
    }

    [Fact]
    public void AKeptPieceStaysReadableAfterItsConnectionIsGoneAndItsGiveBackIsHarmless()
    {
        var segment = SharedSegment.Create(64 * 1024, 0, out _);
        Assert.True(segment.NewToServerRing().TryWrite(Piece(7), Raw, out long position));
        var kept = segment.NewToServerRing().ReadInPlace(position, DataType.Float32, [PieceFloats], PieceFloats * sizeof(float));

        segment.Dispose();

        Assert.Equal(Values(7), kept.ToArray<float>());
        ((RingLease)kept.StorageOwner!).Dispose();
    }

    [Fact]
    public void APieceOutOfRingOrderIsRefused()
    {
        using var segment = SharedSegment.Create(64 * 1024, 0, out _);
        var writer = segment.NewToServerRing();
        Assert.True(writer.TryWrite(Piece(0), Raw, out _));
        Assert.True(writer.TryWrite(Piece(1), Raw, out long second));

        var e = Assert.Throws<ClusterException>(() => segment.NewToServerRing().ReadInPlace(second, DataType.Float32, [PieceFloats], PieceFloats * sizeof(float)));
        Assert.Equal(ClusterErrorCode.Malformed, e.Code);
    }

    [Fact]
    public async Task AReaderAskedToKeepAFloatTensorKeepsItInTheRingAndCopiesTheOthers()
    {
        var (connected, accepted) = await SharedPairAsync();
        await using var client = connected;
        await using var server = accepted;

        // 64 KiB each: large enough to go through the ring.
        float[] values = [.. Values(3), .. Values(4), .. Values(5), .. Values(6)];
        var floats = Tensor.FromArray(values, 2, 2 * PieceFloats);
        var longs = Tensor.FromArray(Enumerable.Range(0, 2 * PieceFloats).Select(i => (long)i * 3).ToArray(), 2 * PieceFloats);
        await client.Writer.SendAsync(FrameType.Result, 1, new WireWriter().U16(3).Written, [new("f", floats), new("i", longs), new("g", floats)], default);
        var wait = TimeSpan.FromSeconds(10);
        Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(wait, default))!.Type);
        var copied = (await server.Reader.ReadAsync(wait, default))!.Tensor!;
        var integers = (await server.Reader.ReadAsync(wait, default, inPlace: true))!.Tensor!;
        var kept = (await server.Reader.ReadAsync(wait, default, inPlace: true))!.Tensor!;

        Assert.IsNotType<RingLease>(copied.StorageOwner);
        Assert.IsNotType<RingLease>(integers.StorageOwner); // not floating point: a peer could change an index under a kernel
        Assert.IsType<RingLease>(kept.StorageOwner);
        Assert.Equal(values, copied.ToArray<float>());
        Assert.Equal(longs.ToArray<long>(), integers.ToArray<long>());
        Assert.Equal(values, kept.ToArray<float>());
        Assert.Equal([2, 2 * PieceFloats], kept.Shape);
        ((RingLease)kept.StorageOwner!).Dispose();

        // The ring goes on in order after the kept piece came back.
        await client.Writer.SendAsync(FrameType.Result, 2, new WireWriter().U16(1).Written, [new("f", floats)], default);
        Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(wait, default))!.Type);
        Assert.Equal(values, (await server.Reader.ReadAsync(wait, default))!.Tensor!.ToArray<float>());
    }

    [Fact]
    public async Task AMessagesLaterPieceThatFindsNoRoomBesideAKeptOneGoesInlineInsteadOfWaiting()
    {
        var (connected, accepted) = await SharedPairAsync();
        await using var client = connected;
        await using var server = accepted;
        var wait = TimeSpan.FromSeconds(10);

        // Four runs' inputs kept in the ring (each at most a quarter of it): 800 KiB of the 1 MiB.
        float[] first = [.. Enumerable.Range(0, 200 * 256).Select(i => (float)Math.Cos(i))];
        var kept = new List<Tensor>();
        for (ulong request = 1; request <= 4; request++)
        {
            await client.Writer.SendAsync(FrameType.Result, request, new WireWriter().U16(1).Written, [new("x", Tensor.FromArray(first, first.Length))], default);
            Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(wait, default))!.Type);
            kept.Add((await server.Reader.ReadAsync(wait, default, inPlace: true))!.Tensor!);
            Assert.IsType<RingLease>(kept[^1].StorageOwner);
        }

        // The next message's first piece fits beside them, its second does not until the first kept one is back; the writer
        // must not wait for that (the reader may keep the first piece too, and give both back only after the run).
        float[] a = [.. Enumerable.Range(0, 100 * 256).Select(i => (float)i)];
        float[] b = [.. Enumerable.Range(0, 200 * 256).Select(i => -(float)i)];
        var sending = client.Writer.SendAsync(FrameType.Result, 5, new WireWriter().U16(2).Written, [new("a", Tensor.FromArray(a, a.Length)), new("b", Tensor.FromArray(b, b.Length))], default);
        Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(wait, default))!.Type);
        var ringPiece = (await server.Reader.ReadAsync(wait, default, inPlace: true))!;
        var inline = (await server.Reader.ReadAsync(wait, default, inPlace: true))!;
        await sending.WaitAsync(wait);

        Assert.Equal(FrameHeader.SharedMemoryFlag, ringPiece.Header.Flags);
        Assert.Equal(a, ringPiece.Tensor!.ToArray<float>());
        Assert.NotEqual(FrameHeader.SharedMemoryFlag, inline.Header.Flags);
        Assert.Equal(b, inline.Tensor!.ToArray<float>());
        Assert.All(kept, k => Assert.Equal(first, k.ToArray<float>()));
        Assert.All(kept, k => ((RingLease)k.StorageOwner!).Dispose());
        ((RingLease)ringPiece.Tensor!.StorageOwner!).Dispose();
    }

    /// <summary>A connected pair whose tensors go through a 1 MiB ring, and whose writer gives up waiting for room after 5 s.</summary>
    private async Task<(ClusterConnection Client, ClusterConnection Server)> SharedPairAsync()
    {
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (client, server) = await _fx.ConnectedPairAsync(limits);
        Assert.Equal("shared memory", client.TensorPath);
        return (client, server);
    }

    private static float[] Values(int piece) => [.. Enumerable.Range(0, PieceFloats).Select(i => (float)Math.Sin((piece * PieceFloats) + i))];

    private static Tensor Piece(int piece) => Tensor.FromArray(Values(piece), PieceFloats);
}
