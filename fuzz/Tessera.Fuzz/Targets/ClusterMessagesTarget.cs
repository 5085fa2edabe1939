using System.Buffers.Binary;
using System.Diagnostics;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Partitioning.Cost;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The decoders of the cluster protocol's payloads, one at a time: the input's first byte picks the decoder
/// (<see cref="ClusterMessageDecoder.Decoded"/>, then a Tensor frame's meta, then a frame header); for COLLECTIVE the
/// next two bytes are the block length the frame carried; the rest is the payload.
/// </summary>
internal sealed class ClusterMessagesTarget : FuzzTarget
{
    private static readonly int s_choices = ClusterMessageDecoder.Decoded.Length + 2;

    public override string Name => "messages";

    public override string Description => "every cluster message decoder (HELLO, CHALLENGE, ERROR, READY/PONG, MODEL_LOADED, MODEL_COSTS, RUN, COLLECTIVE), TensorMeta, FrameHeader";

    public override void Parse(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        int choice = input[0] % s_choices;
        var payload = input[1..];
        if (choice == ClusterMessageDecoder.Decoded.Length)
        {
            TensorMeta.Read(payload[..Math.Min(payload.Length, TensorMeta.SizeFromPrefix(Prefix(payload)))]);
        }
        else if (choice == ClusterMessageDecoder.Decoded.Length + 1)
        {
            FrameHeader.Read(payload);
        }
        else if (ClusterMessageDecoder.Decoded[choice] == FrameType.Collective)
        {
            int blockLength = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(payload) : 0;
            ClusterMessageDecoder.Decode(FrameType.Collective, payload[Math.Min(2, payload.Length)..], blockLength);
        }
        else
        {
            ClusterMessageDecoder.Decode(ClusterMessageDecoder.Decoded[choice], payload, 0);
        }
    }

    public override bool IsRefusal(Exception e) => e is ClusterException;

    /// <summary>A payload is in memory already: a decoder allocates in proportion to it, whatever counts it declares.</summary>
    public override long AllocationBound(int inputLength) => (16 << 10) + (AllocationPerInputByte * inputLength);

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        byte[] hash = Enumerable.Range(0, Protocol.HashBytes).Select(i => (byte)i).ToArray();
        var id = new Guid("0f8fad5b-d9cb-469f-a165-70867728950e");
        yield return With(FrameType.Hello, new HelloMessage(Protocol.Version, ConnectionRole.Coordinator, id, new byte[Protocol.NonceBytes]).Write());
        yield return With(FrameType.Challenge, new ChallengeMessage(Protocol.Version, new byte[Protocol.NonceBytes], hash).Write());
        yield return With(FrameType.Error, new ErrorMessage(ClusterErrorCode.BadRequest, "input 'x' has the wrong shape").Write());
        yield return With(FrameType.Ready, new WorkerInfo("worker-1", 4, 1L << 30, 12345, 2, 1, 5_000_000_000, 8, id).Write());
        yield return With(FrameType.ModelLoaded, new ModelLoadedMessage(hash, 4096, ["input", "mask"], ["logits"]).Write());
        yield return With(FrameType.ModelCosts, new ModelCostsMessage(hash, [new BatchCost(1, 10, 0.001), new BatchCost(8, 3, 0.004)]).Write());
        var route = new RunMessage(2, id, 0, 1,
            [new RouteStage([new RouteRank(hash, "10.0.0.1:7000"), new RouteRank(hash, "10.0.0.2:7000")], ["x"]), new RouteStage([new RouteRank(hash, "dns:w:7000")], ["h", "c"])],
            ["y"]);
        yield return With(FrameType.Run, route.Write());
        var traced = route with { Trace = new ActivityContext(ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c"), ActivitySpanId.CreateFromString("b7ad6b7169203331"), ActivityTraceFlags.Recorded) };
        yield return With(FrameType.Run, traced.Write());
        yield return With(FrameType.Run, (traced with { Wire = WireDataType.BFloat16 }).Write());
        var block = new CollectiveMessage(CollectiveKind.Block, 1, 2, 0, id, "h.partial", string.Empty);
        yield return [(byte)Array.IndexOf(ClusterMessageDecoder.Decoded, FrameType.Collective), 16, 0, .. block.Write(16).Written.Span];
        yield return [(byte)Array.IndexOf(ClusterMessageDecoder.Decoded, FrameType.Collective), 8, 0, .. (block with { Wire = WireDataType.Float16 }).Write(8).Written.Span];
        var abort = new CollectiveMessage(CollectiveKind.Abort, 0, 2, 1, id, string.Empty, "rank 1 failed");
        yield return [(byte)Array.IndexOf(ClusterMessageDecoder.Decoded, FrameType.Collective), 0, 0, .. abort.Write(0).Written.Span];

        foreach (var meta in new[] { new TensorMeta("input.1", Tensors.DataType.Float32, [2, 3, 4], 96, Tensors.DataType.Float32), new TensorMeta("h", Tensors.DataType.Float32, [2, 3, 4], 48, Tensors.DataType.Float16) })
        {
            var metaBytes = new byte[meta.Size];
            meta.Write(metaBytes);
            yield return [(byte)ClusterMessageDecoder.Decoded.Length, .. metaBytes];
        }
        var header = new byte[FrameHeader.Size];
        new FrameHeader(128, FrameType.Run, 42).Write(header);
        yield return [(byte)(ClusterMessageDecoder.Decoded.Length + 1), .. header];
    }

    private static byte[] With(FrameType type, WireWriter payload) => [(byte)Array.IndexOf(ClusterMessageDecoder.Decoded, type), .. payload.Written.Span];

    private static ReadOnlySpan<byte> Prefix(ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = new byte[TensorMeta.PrefixSize];
        payload[..Math.Min(payload.Length, prefix.Length)].CopyTo(prefix);
        return prefix;
    }
}
