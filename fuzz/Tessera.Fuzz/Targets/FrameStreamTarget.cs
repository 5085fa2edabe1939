using System.Buffers;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// A connection's byte stream after the handshake: <see cref="FrameReader"/> reads frame after frame (control payloads,
/// tensors into their storage, collective blocks into pooled arrays) and each payload goes to its decoder, until the
/// stream ends. The limits are small so that the allocation bound holds them: an authenticated peer may make a worker
/// allocate up to <see cref="TransportLimits.MaxTensorBytes"/> for one tensor, never more.
/// </summary>
internal sealed class FrameStreamTarget : FuzzTarget
{
    public static readonly TransportLimits Limits = new() { MaxControlFrameBytes = 256 << 10, MaxTensorBytes = 1 << 20 };

    public override string Name => "frames";

    public override string Description => "the cluster FrameReader on an authenticated connection, each payload through its decoder";

    public override void Parse(ReadOnlySpan<byte> input)
    {
        var reader = new FrameReader(new MemoryStream(input.ToArray(), writable: false), Limits);
        while (reader.ReadAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask().GetAwaiter().GetResult() is { } frame)
        {
            try
            {
                ClusterMessageDecoder.Decode(frame.Type, frame.Payload, frame.BlockLength);
            }
            finally
            {
                if (frame.Block is not null) ArrayPool<byte>.Shared.Return(frame.Block);
            }
        }
    }

    public override bool IsRefusal(Exception e) => e is ClusterException;

    /// <summary>The reader's 64 KiB buffer, one frame's payload up to the limits, and decoded messages in proportion to the input.</summary>
    public override long AllocationBound(int inputLength) =>
        (64 << 10) + Limits.MaxTensorBytes + Limits.MaxControlFrameBytes + (16 << 10) + (AllocationPerInputByte * inputLength);

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        var id = new Guid("7c9e6679-7425-40de-944b-e07fc1f90ae7");
        byte[] hash = new byte[Protocol.HashBytes];
        var route = new RunMessage(2, id, 0, 0, [new RouteStage([new RouteRank(hash, "127.0.0.1:7001")], ["x", "m"])], ["y"]);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var m = Tensor.FromArray(new long[] { 7 }, 1);
        yield return Frames(async w =>
        {
            await w.SendAsync(FrameType.Ping, 1, null, default);
            await w.SendAsync(FrameType.Run, 2, route.Write().Written, [new("x", x), new("m", m)], default);
            await w.SendAsync(FrameType.Error, 2, new ErrorMessage(ClusterErrorCode.Timeout, "stage 1 timed out").Write(), default);
        });
        yield return Frames(async w => await w.SendAsync(FrameType.Pong, 3, new WorkerInfo("w", 2, 0, 0, 0, 0).Write(), default));
        foreach (var wire in new[] { WireDataType.Float16, WireDataType.BFloat16 })
        {
            var narrowed = route with { Wire = wire };
            yield return Frames(async w => await w.SendAsync(FrameType.Run, 4, narrowed.Write().Written, [new("x", x), new("m", m)], default, wire));
        }

        yield return Frames(w =>
        {
            var block = new CollectiveMessage(CollectiveKind.Block, 0, 2, 0, id, "partial", string.Empty);
            w.SendBlock(FrameType.Collective, 9, block.Write(24).Written.Span, new byte[24], TimeSpan.FromSeconds(1));
            return Task.CompletedTask;
        });
    }

    /// <summary>The bytes a <see cref="FrameWriter"/> sends for <paramref name="write"/>.</summary>
    internal static byte[] Frames(Func<FrameWriter, Task> write)
    {
        var stream = new MemoryStream();
        write(new FrameWriter(stream, TransportLimits.Default)).GetAwaiter().GetResult();
        return stream.ToArray();
    }
}
