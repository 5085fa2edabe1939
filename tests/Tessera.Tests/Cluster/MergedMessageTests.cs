using System.Buffers.Binary;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// One frame per message on a connection that shares memory (<see cref="FrameHeader.TensorsFlag"/>): a RUN or RESULT
/// and its tensors' descriptors (ring positions, small tensors' bytes) cross as one frame, which the reader hands out
/// as the control frame and then the Tensor frames they would be on their own; over TCP they stay separate frames.
/// A merged frame whose parts disagree with its length is Malformed, never a hang.
/// </summary>
public sealed class MergedMessageTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task OnSharedMemoryAResultAndItsTensorsAreOneFrameReadAsTheFramesTheyWere()
    {
        var (connected, accepted) = await _fx.ConnectedPairAsync(TransportLimits.Default with { SharedMemoryBytes = 1 << 20 });
        await using var client = connected;
        await using var server = accepted;
        Assert.Equal("shared memory", client.TensorPath);
        var big = ClusterFixture.Random([64, 256], 1); // 64 KiB: through the tensor ring
        var small = Tensor.FromArray(new long[] { 3, -1, 7 }, 3); // inline, in the frame itself
        var narrowed = ClusterFixture.Random([2, 5], 2); // float32 sent as bfloat16, inline
        byte[] control = new WireWriter().U16(3).Written.ToArray();

        await client.Writer.SendAsync(FrameType.Result, 42, control, [new("big", big), new("small", small), new("narrowed", narrowed)], default, WireDataType.BFloat16);

        var message = (await server.Reader.ReadAsync(Wait, default))!;
        Assert.Equal(FrameType.Result, message.Type);
        Assert.Equal(FrameHeader.TensorsFlag, message.Header.Flags);
        Assert.Equal(control, message.Payload);
        // The whole message in the one frame's length: prefix, control, and per tensor a byte, its meta and its data or position.
        long expected = FrameWriter.MergedPrefixSize + control.Length
            + 1 + TensorMeta.For("big", big, WireDataType.BFloat16).Size + 8
            + 1 + TensorMeta.For("small", small).Size + (3 * sizeof(long))
            + 1 + TensorMeta.For("narrowed", narrowed, WireDataType.BFloat16).Size + (10 * 2);
        Assert.Equal(expected, message.Header.Length);

        var first = (await server.Reader.ReadAsync(Wait, default, inPlace: true))!;
        var second = (await server.Reader.ReadAsync(Wait, default))!;
        var third = (await server.Reader.ReadAsync(Wait, default))!;
        Assert.All([first, second, third], f => Assert.Equal((FrameType.Tensor, 42UL), (f.Type, f.RequestId)));
        Assert.Equal(("big", FrameHeader.SharedMemoryFlag), (first.TensorName, first.Header.Flags));
        Assert.Equal(("small", (byte)0), (second.TensorName, second.Header.Flags));
        Assert.Equal("narrowed", third.TensorName);
        // Narrowed on the wire: the ring piece too, so it was copied out rather than kept.
        Assert.IsNotType<RingLease>(first.Tensor!.StorageOwner);
        Assert.Equal(ThroughBFloat16(big.ToArray<float>()), first.Tensor.ToArray<float>());
        Assert.Equal(small.ToArray<long>(), second.Tensor!.ToArray<long>());
        Assert.Equal(ThroughBFloat16(narrowed.ToArray<float>()), third.Tensor!.ToArray<float>());

        // The next message starts a frame of its own; a float32 piece read in place stays in the ring.
        await client.Writer.SendAsync(FrameType.Run, 43, new WireWriter().U16(1).Written, [new("big", big)], default);
        Assert.Equal(FrameHeader.TensorsFlag, (await server.Reader.ReadAsync(Wait, default))!.Header.Flags);
        var kept = (await server.Reader.ReadAsync(Wait, default, inPlace: true))!.Tensor!;
        Assert.IsType<RingLease>(kept.StorageOwner);
        Assert.Equal(big.ToArray<float>(), kept.ToArray<float>());
        RingLease.GiveBack(kept);
        await client.Writer.SendAsync(FrameType.Ping, 0, null, default);
        Assert.Equal(FrameType.Ping, (await server.Reader.ReadAsync(Wait, default))!.Type);
    }

    [Fact]
    public async Task OverTcpAMessageKeepsItsSeparateTensorFrames()
    {
        var (connected, accepted) = await _fx.ConnectedPairAsync(TransportLimits.Default with { SharedMemoryBytes = 0 });
        await using var client = connected;
        await using var server = accepted;
        Assert.NotEqual("shared memory", client.TensorPath);
        var small = Tensor.FromArray(new long[] { 3, -1, 7 }, 3);

        await client.Writer.SendAsync(FrameType.Run, 7, new WireWriter().U16(1).Written, [new("small", small)], default);

        var message = (await server.Reader.ReadAsync(Wait, default))!;
        Assert.Equal((FrameType.Run, (byte)0, 2u), (message.Type, message.Header.Flags, message.Header.Length));
        var tensor = (await server.Reader.ReadAsync(Wait, default))!;
        Assert.Equal(FrameType.Tensor, tensor.Type);
        Assert.Equal(small.ToArray<long>(), tensor.Tensor!.ToArray<long>());
    }

    public static TheoryData<string, string> Malformations => new()
    {
        { "trailing bytes after the last tensor", "frame's length disagree" },
        { "a tensor past the frame's end", "frame's length disagree" },
        { "a control part longer than the frame", "cannot hold" },
        { "no tensors", "cannot hold" },
        { "an unknown place byte", "with flags 9" },
        { "fewer bytes than a tensor header", "ends before" },
        { "the flag on a Ping", "a Ping frame with flags 2" },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public async Task AMergedFrameThatDisagreesWithItselfIsMalformed(string malformation, string message)
    {
        var (connected, accepted) = await _fx.ConnectedPairAsync(TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) });
        await using var client = connected;
        await using var server = accepted;
        Assert.Equal("shared memory", client.TensorPath);
        await client.Writer.SendRawAsync(Malformed(malformation), default);

        var error = await Assert.ThrowsAsync<ClusterException>(async () =>
        {
            // The control frame, then its announced tensors: whichever part is wrong throws.
            for (int i = 0; i < 4; i++)
            {
                await server.Reader.ReadAsync(Wait, default).AsTask().WaitAsync(Wait);
            }
        });
        Assert.Equal(ClusterErrorCode.Malformed, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task AMergedFrameCutShortByItsPeersEndIsMalformedNotAHang()
    {
        var (connected, accepted) = await _fx.ConnectedPairAsync(TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) });
        await using var server = accepted;
        byte[] whole = Message(count: 1, tensor: Descriptor("x", 0, [3], 12), extra: 0);
        await using (var client = connected)
        {
            // All but the last four bytes of the tensor's data, then the peer goes away.
            await client.Writer.SendRawAsync(whole[..^4], default);
        }

        var error = await Assert.ThrowsAsync<ClusterException>(async () =>
        {
            for (int i = 0; i < 2; i++)
            {
                await server.Reader.ReadAsync(Wait, default).AsTask().WaitAsync(Wait);
            }
        });
        Assert.Equal(ClusterErrorCode.Malformed, error.Code);
        Assert.Contains("closed in the middle", error.Message);
    }

    /// <summary>A hand-made merged RESULT (request 5) with one of <see cref="Malformations"/>.</summary>
    private static byte[] Malformed(string malformation) => malformation switch
    {
        "trailing bytes after the last tensor" => Message(count: 1, tensor: Descriptor("x", 0, [3], 12), extra: 4),
        "a tensor past the frame's end" => Message(count: 1, tensor: Descriptor("x", 0, [3], 12), extra: -4),
        "a control part longer than the frame" => Message(count: 1, tensor: [], extra: 0, control: 100),
        "no tensors" => Message(count: 0, tensor: [], extra: 0),
        "an unknown place byte" => Message(count: 1, tensor: Descriptor("x", 9, [3], 12), extra: 0),
        "fewer bytes than a tensor header" => Message(count: 2, tensor: Descriptor("x", 0, [3], 12), extra: 3),
        "the flag on a Ping" => Header(FrameType.Ping, 0),
        _ => throw new ArgumentException(malformation),
    };

    /// <summary>
    /// A RESULT frame with the merged flag: prefix (<paramref name="control"/> bytes announced, two sent), the control
    /// part, the tensor bytes, and <paramref name="extra"/> bytes more (or fewer) in the frame's length than it has.
    /// </summary>
    private static byte[] Message(int count, byte[] tensor, int extra, uint control = 2)
    {
        int body = FrameWriter.MergedPrefixSize + 2 + tensor.Length;
        var bytes = new byte[FrameHeader.Size + body + Math.Max(extra, 0)];
        new FrameHeader((uint)(body + extra), FrameType.Result, 5, FrameHeader.TensorsFlag).Write(bytes);
        var payload = bytes.AsSpan(FrameHeader.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(payload, control);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[6..], (ushort)count);
        tensor.CopyTo(payload[8..]);
        return bytes;
    }

    /// <summary>One inline float32 tensor's descriptor: the place byte, its meta and <paramref name="bytes"/> zero bytes of data.</summary>
    private static byte[] Descriptor(string name, byte place, int[] shape, int bytes)
    {
        var meta = new TensorMeta(name, DataType.Float32, shape, bytes, DataType.Float32);
        var descriptor = new byte[1 + meta.Size + bytes];
        descriptor[0] = place;
        meta.Write(descriptor.AsSpan(1));
        return descriptor;
    }

    private static float[] ThroughBFloat16(float[] values)
    {
        var wire = new BFloat16[values.Length];
        BFloat16.FromSingles(values, wire);
        var back = new float[values.Length];
        BFloat16.ToSingles(wire, back);
        return back;
    }

    private static byte[] Header(FrameType type, uint length)
    {
        var bytes = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
        bytes[4] = (byte)type;
        bytes[5] = FrameHeader.TensorsFlag;
        return bytes;
    }
}
