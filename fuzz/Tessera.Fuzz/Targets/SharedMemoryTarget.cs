using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The shared-memory offer and answer on an authenticated connection, and the tensor frames that then come through a
/// ring: <see cref="FrameReader"/> hands SHARED_MEMORY_OFFER/ANSWER frames to a real <see cref="SharedMemoryLink"/>
/// over real /dev/shm segments and reads flagged tensor frames from its ring at the positions the peer names. The
/// input's first byte picks the side: odd, the connecting side, which has offered a segment (answers are expected);
/// even, the accepting side, for which a peer's segment exists: an offer naming <see cref="PlaceholderName"/> with
/// cookie <see cref="PlaceholderCookie"/> names that segment (the same lengths, so the fuzzer's offers can reach it).
/// After an accepting answer the connecting side reads the server's frames from the segment's frame ring, so bytes
/// behind the answer in the input are refused there; the accepting side reads the input until a SHARED_MEMORY_SWITCH.
/// </summary>
internal sealed class SharedMemoryTarget : FuzzTarget
{
    /// <summary>Rings of two pages: small, so that pieces wrap around within a few frames.</summary>
    public const long RingBytes = 8192;

    public static readonly TransportLimits Limits = FrameStreamTarget.Limits with { SharedMemoryBytes = RingBytes };

    public static readonly byte[] PlaceholderName = Encoding.ASCII.GetBytes("tessera-" + new string('0', 32));

    public static readonly byte[] PlaceholderCookie = "fuzz-fuzz-cookie"u8.ToArray();

    public override string Name => "sharedmemory";

    public override string Description => "SHARED_MEMORY_OFFER/ANSWER through SharedMemoryLink on both sides, real /dev/shm segments, tensor frames read from the ring";

    public override IReadOnlyList<byte[]> Dictionary { get; } = [PlaceholderName, PlaceholderCookie, Encoding.UTF8.GetBytes(HostIdentity.NetworkNamespace), HostIdentity.BootId.ToByteArray()];

    public override void Parse(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        bool connecting = (input[0] & 1) == 1;
        byte[] frames = input[1..].ToArray();
        var writer = new FrameWriter(Stream.Null, Limits);
        var stream = new MemoryStream(frames, writable: false);
        // The input is the connection's TCP side too: once frames move to the ring its end (or a byte more) ends them.
        using var link = new SharedMemoryLink(Limits, writer, stream) { Authenticated = true };
        SharedSegment? peers = null;
        try
        {
            if (connecting)
            {
                var server = new WorkerInfo("fuzz", 1, 0, 0, 0, 0, HostId: HostIdentity.BootId);
                link.OfferAsync(ConnectionRole.Coordinator, server, CancellationToken.None).GetAwaiter().GetResult();
            }
            else
            {
                peers = SharedSegment.Create(RingBytes, RingBytes, out byte[] cookie);
                Replace(frames, PlaceholderName, Encoding.ASCII.GetBytes(peers.Name));
                Replace(frames, PlaceholderCookie, cookie);
            }

            var reader = new FrameReader(stream, Limits, null, link);
            while (reader.ReadAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask().GetAwaiter().GetResult() is { } frame)
            {
                if (frame.Block is not null) ArrayPool<byte>.Shared.Return(frame.Block);
            }
        }
        finally
        {
            peers?.Dispose();
        }
    }

    public override bool IsRefusal(Exception e) => e is ClusterException;

    /// <summary>As <see cref="FrameStreamTarget"/>'s: the reader's buffer, one frame up to the limits, and the rest in proportion to the input.</summary>
    public override long AllocationBound(int inputLength) =>
        (64 << 10) + Limits.MaxTensorBytes + Limits.MaxControlFrameBytes + (16 << 10) + (AllocationPerInputByte * inputLength);

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        // Connecting side: the server's answer (its later frames, tensors among them, come through the frame ring).
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        yield return [1, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryAnswer, 0, new SharedMemoryAnswerMessage(true, string.Empty).Write(), default))];
        yield return [1, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryAnswer, 0, new SharedMemoryAnswerMessage(false, "another network namespace").Write(), default))];

        // Accepting side: an offer of the peer's segment, tensors it wrote into the ring; offers it must refuse.
        var offer = new SharedMemoryOfferMessage(HostIdentity.BootId, HostIdentity.NetworkNamespace, Encoding.ASCII.GetString(PlaceholderName), RingBytes, RingBytes, PlaceholderCookie);
        yield return [0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, offer.Write(), default))];
        yield return
        [
            0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, offer.Write(), default)),
            .. SharedTensors([("x", x, 0), ("x", x, 64), ("big", Tensor.FromArray(new double[900], 900), 128)]),
            .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.Ping, 1, null, default)),
        ];
        yield return
        [
            0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, offer.Write(), default)),
            .. SharedTensors([("y", x, 0), ("z", Tensor.FromArray(new long[1000], 1000), 64), ("x", x, 8064)]),
            .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemorySwitch, 0, null, default)),
        ];
        yield return [0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, (offer with { ToClientBytes = 0 }).Write(), default))];
        yield return [0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, (offer with { NetworkNamespace = "net:[1]" }).Write(), default))];
        yield return [0, .. FrameStreamTarget.Frames(w => w.SendAsync(FrameType.SharedMemoryOffer, 0, (offer with { ToServerBytes = 3 * RingBytes }).Write(), default))];
    }

    /// <summary>Tensor frames flagged as shared memory, as a writer sends them: the header, the meta and the ring position the data sits at.</summary>
    private static byte[] SharedTensors((string Name, Tensor Tensor, long Position)[] tensors)
    {
        var frames = new MemoryStream();
        foreach (var (name, tensor, position) in tensors)
        {
            var meta = new TensorMeta(name, tensor.DataType, tensor.Shape, tensor.ByteLength, tensor.DataType);
            byte[] frame = new byte[FrameHeader.Size + meta.Size + 8];
            new FrameHeader((uint)(meta.Size + 8), FrameType.Tensor, 7, FrameHeader.SharedMemoryFlag).Write(frame);
            meta.Write(frame.AsSpan(FrameHeader.Size));
            BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(FrameHeader.Size + meta.Size), position);
            frames.Write(frame);
        }

        return frames.ToArray();
    }

    private static void Replace(byte[] bytes, byte[] placeholder, byte[] value)
    {
        for (int at = bytes.AsSpan().IndexOf(placeholder); at >= 0; at = Next(bytes, placeholder, at))
        {
            value.CopyTo(bytes, at);
        }
    }

    private static int Next(byte[] bytes, byte[] placeholder, int after)
    {
        int next = bytes.AsSpan(after + placeholder.Length).IndexOf(placeholder);
        return next < 0 ? -1 : after + placeholder.Length + next;
    }
}
