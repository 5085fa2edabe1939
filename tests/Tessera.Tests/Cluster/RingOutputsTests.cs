using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Outputs computed straight into a connection's outgoing ring (<see cref="RingOutputs"/>): they arrive as written with
/// no piece written for them at send time, a message that leaves a piece out or a run that fails keeps the ring in
/// order for the messages after it, and control frames pass while a run holds the ring.
/// </summary>
public sealed class RingOutputsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task OutputsComputedInTheRingArriveAsWrittenWithNothingCopiedAtSend()
    {
        // 1 MiB rings and 400 KB outputs: every other message's pieces wait for the reader to take the last ones.
        var (connected, accepted) = await SmallRingsPairAsync();
        await using var client = connected;
        await using var server = accepted;
        var ring = client.Writer.SharedRing!;
        var pool = new TensorPool();
        for (ulong id = 1; id <= 6; id++)
        {
            using var outputs = new RingOutputs(client.Writer, ring, pool.Allocate, Bound);
            var expected = new List<KeyValuePair<string, Tensor>>
            {
                new("small", Filled(outputs.Allocate(DataType.Float32, [10]), (int)id)),
                new("a", Filled(outputs.Allocate(DataType.Float32, [100_000]), (int)id + 100)),
                new("b", Filled(outputs.Allocate(DataType.Int64, [50_000]), (int)id + 200)),
            };
            Assert.IsNotType<RingOutputs>(expected[0].Value.StorageOwner);
            Assert.IsType<RingOutputs>(expected[1].Value.StorageOwner);
            long reserved = ring.Position;

            var sending = client.Writer.SendAsync(FrameType.Result, id, new WireWriter().U16(3).Written, expected, default, WireDataType.Float32, outputs);
            await ExpectAsync(server, id, expected);
            await sending.WaitAsync(Bound);
            Assert.Equal(reserved, ring.Position);
        }
    }

    [Fact]
    public async Task APieceLeftOutOrARunThatFailedKeepsTheRingInOrderForLaterMessages()
    {
        var (connected, accepted) = await SmallRingsPairAsync();
        await using var client = connected;
        await using var server = accepted;
        var ring = client.Writer.SharedRing!;
        var pool = new TensorPool();

        // A run whose second output nobody needs: the first is copied out and the ring rewound before the send.
        using (var outputs = new RingOutputs(client.Writer, ring, pool.Allocate, Bound))
        {
            var sent = Filled(outputs.Allocate(DataType.Float32, [20_000]), 1);
            Filled(outputs.Allocate(DataType.Float32, [30_000]), 2);
            var message = new List<KeyValuePair<string, Tensor>> { new("sent", sent) };
            var sending = client.Writer.SendAsync(FrameType.Result, 1, new WireWriter().U16(1).Written, message, default, WireDataType.Float32, outputs);
            await ExpectAsync(server, 1, message);
            await sending.WaitAsync(Bound);
        }

        // A run that failed after taking pieces: nothing of it is sent, the pieces go back.
        using (var failed = new RingOutputs(client.Writer, ring, pool.Allocate, Bound))
        {
            Filled(failed.Allocate(DataType.Float32, [40_000]), 3);
        }

        // An ordinary message after both: its ring pieces are the reader's next ones.
        var plain = new List<KeyValuePair<string, Tensor>> { new("plain", ClusterFixture.Random([50_000], 4)) };
        var plainSending = client.Writer.SendAsync(FrameType.Result, 2, new WireWriter().U16(1).Written, plain, default);
        await ExpectAsync(server, 2, plain);
        await plainSending.WaitAsync(Bound);
    }

    [Fact]
    public async Task AControlFramePassesWhileARunHoldsTheRingAndATensorMessageFollowsItsPieces()
    {
        var (connected, accepted) = await _fx.ConnectedPairAsync(TransportLimits.Default with { ReadTimeout = Bound });
        await using var client = connected;
        await using var server = accepted;
        var pool = new TensorPool();
        var outputs = new RingOutputs(client.Writer, client.Writer.SharedRing!, pool.Allocate, Bound);
        var piece = Filled(outputs.Allocate(DataType.Float32, [20_000]), 5);

        // The run holds the ring gate: a PONG goes out meanwhile, a message with tensors waits for the run's.
        await client.Writer.SendAsync(FrameType.Pong, 7, null, default).WaitAsync(Bound);
        Assert.Equal(FrameType.Pong, (await server.Reader.ReadAsync(Bound, default))!.Type);
        var other = new List<KeyValuePair<string, Tensor>> { new("other", ClusterFixture.Random([30_000], 6)) };
        var waiting = client.Writer.SendAsync(FrameType.Result, 9, new WireWriter().U16(1).Written, other, default);

        var mine = new List<KeyValuePair<string, Tensor>> { new("mine", piece) };
        // A copy to compare with: once the reader has consumed the piece, the next message may start over on its bytes.
        var sent = new List<KeyValuePair<string, Tensor>> { new("mine", Tensor.FromArray(piece.ToArray<float>(), piece.Shape)) };
        await client.Writer.SendAsync(FrameType.Result, 8, new WireWriter().U16(1).Written, mine, default, WireDataType.Float32, outputs).WaitAsync(Bound);
        outputs.Dispose();
        await ExpectAsync(server, 8, sent);
        await ExpectAsync(server, 9, other);
        await waiting.WaitAsync(Bound);
    }

    [Fact]
    public async Task ASecondRunOnTheConnectionAndPiecesBeyondTheRingTakePooledStorageAtOnce()
    {
        var (connected, accepted) = await SmallRingsPairAsync();
        await using var client = connected;
        await using var server = accepted;
        var ring = client.Writer.SharedRing!;
        var pool = new TensorPool();
        var patient = TimeSpan.FromMinutes(10); // waiting for room would hang the test: it must not wait at all
        using var first = new RingOutputs(client.Writer, ring, pool.Allocate, patient);
        using var second = new RingOutputs(client.Writer, ring, pool.Allocate, patient);
        var piece = await Task.Run(() => first.Allocate(DataType.Float32, [150_000])).WaitAsync(Bound);
        Assert.IsType<RingOutputs>(piece.StorageOwner);

        // Another run while the first holds the ring: it does not wait for the first one's frames.
        var other = await Task.Run(() => second.Allocate(DataType.Float32, [20_000])).WaitAsync(Bound);
        Assert.IsNotType<RingOutputs>(other.StorageOwner);

        // 600 KB held unsent and 600 KB more cannot fit a 1 MiB ring whatever the reader does.
        var beyond = await Task.Run(() => first.Allocate(DataType.Float32, [150_000])).WaitAsync(Bound);
        Assert.IsNotType<RingOutputs>(beyond.StorageOwner);
        var fits = await Task.Run(() => first.Allocate(DataType.Float32, [50_000])).WaitAsync(Bound);
        Assert.IsType<RingOutputs>(fits.StorageOwner);

        var message = new List<KeyValuePair<string, Tensor>> { new("a", Filled(piece, 1)), new("b", Filled(beyond, 2)), new("c", Filled(fits, 3)) };
        // Copies to compare with: the reader gives a's space back before b is written there.
        var sent = message.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, Tensor.FromArray(kv.Value.ToArray<float>(), kv.Value.Shape))).ToList();
        var sending = client.Writer.SendAsync(FrameType.Result, 1, new WireWriter().U16(3).Written, message, default, WireDataType.Float32, first);
        await ExpectAsync(server, 1, sent);
        await sending.WaitAsync(Bound);
    }

    /// <summary>A connection pair sharing memory through 1 MiB rings.</summary>
    private Task<(ClusterConnection Client, ClusterConnection Server)> SmallRingsPairAsync() =>
        _fx.ConnectedPairAsync(TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = Bound });

    private static Tensor Filled(Tensor tensor, int seed)
    {
        new Random(seed).NextBytes(tensor.Bytes);
        return tensor;
    }

    private static async Task ExpectAsync(ClusterConnection server, ulong id, List<KeyValuePair<string, Tensor>> expected)
    {
        var head = await server.Reader.ReadAsync(Bound, default);
        Assert.Equal((FrameType.Result, id), (head!.Type, head.RequestId));
        var received = new Dictionary<string, byte[]>();
        for (int i = 0; i < expected.Count; i++)
        {
            var frame = await server.Reader.ReadAsync(Bound, default);
            received[frame!.TensorName!] = frame.Tensor!.Bytes.ToArray();
        }

        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.Bytes.ToArray(), received[name]);
        }
    }
}
