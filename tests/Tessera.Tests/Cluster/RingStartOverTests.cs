using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The shared ring's writer starts over at the ring's beginning once its reader has consumed everything written, so
/// the span its pieces cycle through is what is in flight, not the ring's size; a writer ahead of its reader waits at
/// the soft end for it to read. Neither may ever make a piece wait where taking the ring in order would not have
/// (the experiment of 12f0c25 did: a piece after starting over had to follow it over a kept piece).
/// </summary>
public sealed class RingStartOverTests : IDisposable
{
    private const int Ring = 64 * 1024;
    private const int PieceBytes = 16 * 1024; // four fill the ring
    private static readonly WireEncoding Raw = new(DataType.UInt8, DataType.UInt8);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void OnceEverythingIsConsumedTheWriterStartsOverWithTheWholeRingFree()
    {
        using var segment = SharedSegment.Create(Ring, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();
        Assert.True(writer.TryWrite(Piece(0), Raw, out long first));
        Assert.Equal(0, first);
        Read(reader, first, 0);

        // Everything is consumed: the next piece goes to the ring's beginning, and the gap it skips counts as free, so
        // four pieces fit behind it again (counted from the consumed position, the gap would leave room for one).
        var positions = new long[4];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(writer.TryWrite(Piece(i + 1), Raw, out positions[i]));
        }

        Assert.Equal([Ring, Ring + PieceBytes, Ring + (2 * PieceBytes), Ring + (3 * PieceBytes)], positions);
        Assert.False(writer.TryWrite(Piece(5), Raw, out _)); // full
        for (int i = 0; i < 4; i++)
        {
            Read(reader, positions[i], i + 1);
        }
    }

    [Fact]
    public void WhileAPieceIsKeptTheWriterGoesOnInOrderAndNeverWaitsForIt()
    {
        using var segment = SharedSegment.Create(Ring, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();
        Assert.True(writer.TryWrite(Piece(0), Raw, out long a));
        Assert.True(writer.TryWrite(Piece(1), Raw, out long b));
        Read(reader, a, 0);
        var kept = reader.ReadInPlace(b, DataType.UInt8, [PieceBytes], PieceBytes); // a run's input, kept until the run is over

        // The bytes at the ring's beginning are consumed, but the kept piece follows them: starting over there would
        // put the piece after next onto it, and the reader gives it back only once the run that waits for them is over.
        Assert.True(writer.TryWrite(Piece(2), Raw, out long c, paced: true));
        Read(reader, c, 2);

        // A piece that starts over while one is kept is not the next piece.
        var malformed = Assert.Throws<ClusterException>(() => reader.Read(Ring, new byte[PieceBytes], Raw));
        Assert.Equal(ClusterErrorCode.Malformed, malformed.Code);
        Assert.True(writer.TryWrite(Piece(3), Raw, out long d, paced: true));
        Assert.Equal([2 * PieceBytes, 3 * PieceBytes], new[] { c, d });
        Read(reader, d, 3);
        Assert.Equal(Piece(1), kept.ToArray<byte>());

        ((RingLease)kept.StorageOwner!).Dispose();
        Assert.True(writer.TryWrite(Piece(4), Raw, out long e));
        Assert.Equal(Ring, e);
        Read(reader, e, 4);
    }

    [Fact]
    public void AWriterAheadOfItsReaderWaitsAtTheSoftEndUntilItHasReadEverythingUnlessItKeepsAPiece()
    {
        using var segment = SharedSegment.Create(Ring, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();

        // The soft end of a 64 KiB ring for 16 KiB pieces: three of them. A message's first piece waits there for the
        // reader; a later piece of a message never does (the reader may need it to finish what it keeps).
        var positions = new long[3];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(writer.TryWrite(Piece(i), Raw, out positions[i], paced: true));
        }

        Assert.False(writer.TryWrite(Piece(3), Raw, out _, paced: true));
        Assert.True(writer.CanReserveAfter(0, PieceBytes)); // there is room: it is the pacing that holds it
        Read(reader, positions[0], 0);
        Assert.False(writer.TryWrite(Piece(3), Raw, out _, paced: true));

        // A reader that keeps a piece may keep the next ones too (a stage's inputs) and read its next RUN only after the
        // run: the writer goes on in order rather than wait for that.
        var kept = reader.ReadInPlace(positions[1], DataType.UInt8, [PieceBytes], PieceBytes);
        Assert.True(writer.TryWrite(Piece(3), Raw, out long next, paced: true));
        Assert.Equal(3 * PieceBytes, next);
        Read(reader, positions[2], 2);
        Read(reader, next, 3);
        ((RingLease)kept.StorageOwner!).Dispose();
        Assert.Equal(Piece(1), kept.ToArray<byte>());

        // Three more from the ring's beginning, then the soft end again: once the reader has read (and consumed) them
        // all, the next starts over.
        for (int i = 0; i < 3; i++)
        {
            Assert.True(writer.TryWrite(Piece(4 + i), Raw, out positions[i], paced: true));
        }

        Assert.Equal(Ring + (2 * PieceBytes), positions[2]);
        Assert.False(writer.TryWrite(Piece(7), Raw, out _, paced: true));
        for (int i = 0; i < 3; i++)
        {
            Read(reader, positions[i], 4 + i);
        }

        Assert.True(writer.TryWrite(Piece(7), Raw, out long over, paced: true));
        Assert.Equal(2 * Ring, over);
        Read(reader, over, 7);
    }

    [Fact]
    public async Task AReaderHoldingKeptPiecesGetsTheNextMessagesThroughTheRingWithoutAStall()
    {
        // 1 MiB ring, 128 KiB tensors; the writer gives up waiting for room after the 5 s read timeout.
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (connected, accepted) = await _fx.ConnectedPairAsync(limits);
        await using var client = connected;
        await using var server = accepted;
        Assert.Equal("shared memory", client.TensorPath);
        var wait = TimeSpan.FromSeconds(10);
        var kept = new List<(Tensor Sent, Tensor Received)>();
        for (ulong id = 1; id <= 3; id++)
        {
            // Each message: two tensors; the reader copies the first of the first message and keeps every other one,
            // as a caller holding earlier results while it waits for the next one does.
            var tensors = Enumerable.Range(0, 2).Select(i => new KeyValuePair<string, Tensor>($"t{i}", ClusterFixture.Random([32 * 1024], (int)id * 10 + i))).ToList();
            var sending = client.Writer.SendAsync(FrameType.Result, id, new WireWriter().U16(2).Written, tensors, default);
            Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(wait, default))!.Type);
            for (int i = 0; i < 2; i++)
            {
                var frame = (await server.Reader.ReadAsync(wait, default, inPlace: id > 1 || i > 0))!;
                Assert.Equal(FrameHeader.SharedMemoryFlag, frame.Header.Flags);
                Assert.Equal(tensors[i].Value.ToArray<float>(), frame.Tensor!.ToArray<float>());
                if (frame.Tensor.StorageOwner is RingLease) kept.Add((tensors[i].Value, frame.Tensor));
            }

            await sending.WaitAsync(wait);
        }

        Assert.Equal(5, kept.Count);
        Assert.All(kept, k => Assert.Equal(k.Sent.ToArray<float>(), k.Received.ToArray<float>()));
        RingLease.GiveBack(kept.Select(k => k.Received));
    }

    private static byte[] Piece(int piece) => [.. Enumerable.Range(0, PieceBytes).Select(i => (byte)((piece * 31) + (i * 7)))];

    private static void Read(SharedRing reader, long position, int piece)
    {
        var back = new byte[PieceBytes];
        reader.Read(position, back, Raw);
        Assert.Equal(Piece(piece), back);
    }
}
