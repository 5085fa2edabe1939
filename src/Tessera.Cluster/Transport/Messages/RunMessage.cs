using System.Buffers.Binary;
using System.Diagnostics;

namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// RUN payload, followed by <c>tensor count</c> Tensor frames with the same request id:
/// <c>u16 tensor count | 16-byte reply-to client id | u16 current stage | u16 rank | u16 stage count |
/// stage count × (u16 rank count T | T × (32-byte model hash | string address) | strings inputs) | strings outputs |
/// u8 wire data type [| u8 1 | 16-byte trace id | 8-byte parent span id | u8 trace flags]</c> (the W3C trace context,
/// when the request is traced). Every worker sends the request's float32 tensors on (to later stages, to the other
/// ranks of its group, as collective partial sums, as results) as the wire data type says.
/// The receiving worker runs rank <c>rank</c> of stage <c>current</c> (the model of that rank). Rank 0 of a
/// tensor-parallel stage relays the RUN (same tensors, its rank set) to ranks 1..T-1 before it runs; afterwards only
/// rank 0 sends on: every tensor later stages or the outputs need to rank 0 of the next stage (RUN with current + 1),
/// or, at the last stage, a RESULT with the named outputs on its connection from the reply-to client.
/// </summary>
public sealed record RunMessage(ushort TensorCount, Guid ReplyTo, int Current, int Rank, RouteStage[] Stages, string[] Outputs)
{
    public const int MaxStages = 1024;

    /// <summary>Most ranks of one tensor-parallel stage.</summary>
    public const int MaxRanks = 256;

    /// <summary>The only kind of trailing trace context: W3C trace context (trace id, span id, flags).</summary>
    private const byte W3CTraceContext = 1;

    // Offsets of the fields a worker changes when it sends a RUN on: u16 tensor count | 16-byte reply-to | u16 current | u16 rank.
    private const int CurrentOffset = 18;
    private const int RankOffset = 20;

    /// <summary>
    /// The payload this message was read from (empty when it was built here). Every other field of a RUN a worker
    /// sends on (to the next stage, to the other ranks of its group) is the received one, so <see cref="Payload"/>
    /// copies these bytes and sets the tensor count, stage and rank in them rather than writing the route again
    /// (its hashes, addresses and names: 40-57 us of a stage's send per run went to writing the RUN and its tensor
    /// frames). Kept by <c>with</c>, so <see cref="Next"/> and <see cref="ForRank"/> have it too.
    /// </summary>
    private ReadOnlyMemory<byte> _received;

    // The fields the received bytes hold beyond the three patched ones, as read: a message changed in any of them
    // (with { Trace = ... }) is written again rather than sent as stale bytes.
    private (Guid ReplyTo, RouteStage[] Stages, string[] Outputs, ActivityContext Trace, WireDataType Wire) _readAs;

    public RouteStage Stage => Stages[Current];

    /// <summary>The rank of the current stage this worker runs.</summary>
    public RouteRank Self => Stage.Ranks[Rank];

    public bool IsLastStage => Current == Stages.Length - 1;

    /// <summary>
    /// The span the stages' spans are children of (the coordinator's route span); default when the request is not
    /// traced. Kept as the RUN goes on to later stages and ranks, so every stage's span has the same parent.
    /// </summary>
    public ActivityContext Trace { get; init; }

    /// <summary>How the request's float32 tensors travel between processes, at every step of the route.</summary>
    public WireDataType Wire { get; init; } = WireDataType.Float32;

    public WireWriter Write()
    {
        var w = new WireWriter().U16(TensorCount).Bytes(ReplyTo.ToByteArray()).U16((ushort)Current).U16((ushort)Rank).U16((ushort)Stages.Length);
        foreach (var stage in Stages)
        {
            w.U16((ushort)stage.Ranks.Length);
            foreach (var rank in stage.Ranks)
            {
                w.Bytes(rank.ModelHash).String(rank.Address);
            }

            w.Strings(stage.Inputs);
        }

        w.Strings(Outputs).U8((byte)Wire);
        if (Trace != default)
        {
            Span<byte> ids = stackalloc byte[24];
            Trace.TraceId.CopyTo(ids[..16]);
            Trace.SpanId.CopyTo(ids[16..]);
            w.U8(W3CTraceContext).Bytes(ids).U8((byte)Trace.TraceFlags);
        }

        return w;
    }

    /// <summary>As <see cref="Read(ReadOnlySpan{byte})"/>, keeping <paramref name="payload"/> (which the caller no longer changes) for <see cref="Payload"/>.</summary>
    public static RunMessage Read(byte[] payload) => Read(payload.AsSpan(), payload);

    /// <summary>
    /// The payload to send: the received one with this message's tensor count, stage and rank set (every other field
    /// is the same, see <see cref="_received"/>), or, for a message built here, <see cref="Write"/>'s.
    /// </summary>
    public ReadOnlyMemory<byte> Payload()
    {
        if (_received.IsEmpty || !ReferenceEquals(Stages, _readAs.Stages) || !ReferenceEquals(Outputs, _readAs.Outputs)
            || ReplyTo != _readAs.ReplyTo || Trace != _readAs.Trace || Wire != _readAs.Wire)
        {
            return Write().Written;
        }

        byte[] payload = _received.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(payload, TensorCount);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(CurrentOffset), (ushort)Current);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(RankOffset), (ushort)Rank);
        return payload;
    }

    public static RunMessage Read(ReadOnlySpan<byte> payload) => Read(payload, ReadOnlyMemory<byte>.Empty);

    private static RunMessage Read(ReadOnlySpan<byte> payload, ReadOnlyMemory<byte> received)
    {
        var r = new WireReader(payload);
        ushort tensors = r.U16();
        var replyTo = new Guid(r.Bytes(16));
        int current = r.U16();
        int rank = r.U16();
        int count = r.Count(minBytesEach: 4); // a u16 rank count and a u16 input count at least
        if (count == 0 || count > MaxStages || current >= count)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a route of {count} stages cannot be at stage {current}");
        }

        var stages = new RouteStage[count];
        for (int i = 0; i < count; i++)
        {
            int degree = r.Count(minBytesEach: Protocol.HashBytes + 2);
            if (degree == 0 || degree > MaxRanks)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"stage {i} of the route has {degree} ranks (1..{MaxRanks})");
            }

            var ranks = new RouteRank[degree];
            for (int k = 0; k < degree; k++)
            {
                ranks[k] = new RouteRank(r.Bytes(Protocol.HashBytes).ToArray(), r.String());
            }

            stages[i] = new RouteStage(ranks, r.Strings());
        }

        string[] outputs = r.Strings();
        byte wire = r.U8();
        if (!WireDataTypeNames.IsDefined(wire))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a RUN asks for unknown wire data type {wire}");
        }

        var trace = r.Remaining > 0 ? ReadTrace(ref r) : default;
        r.End();
        if (rank >= stages[current].Degree)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"rank {rank} of stage {current}, which has {stages[current].Degree} ranks");
        }

        return new RunMessage(tensors, replyTo, current, rank, stages, outputs)
        {
            Trace = trace,
            Wire = (WireDataType)wire,
            _received = received,
            _readAs = (replyTo, stages, outputs, trace, (WireDataType)wire),
        };
    }

    private static ActivityContext ReadTrace(ref WireReader r)
    {
        byte kind = r.U8();
        if (kind != W3CTraceContext)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a RUN carries trace context of unknown kind {kind}");
        }

        var traceId = r.Bytes(16);
        var spanId = r.Bytes(8);
        var flags = (ActivityTraceFlags)r.U8();
        if (!traceId.ContainsAnyExcept((byte)0) || !spanId.ContainsAnyExcept((byte)0))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a RUN carries a trace context with an all-zero trace or span id");
        }

        return new ActivityContext(ActivityTraceId.CreateFromBytes(traceId), ActivitySpanId.CreateFromBytes(spanId), flags, isRemote: true);
    }

    /// <summary>The RUN for rank 0 of the next stage.</summary>
    public RunMessage Next(ushort tensorCount) => this with { TensorCount = tensorCount, Current = Current + 1, Rank = 0 };

    /// <summary>The same RUN for another rank of the current stage.</summary>
    public RunMessage ForRank(int rank) => this with { Rank = rank };
}
