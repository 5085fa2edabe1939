namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// RUN payload, followed by <c>tensor count</c> Tensor frames with the same request id:
/// <c>u16 tensor count | 16-byte reply-to client id | u16 current stage | u16 stage count |
/// stage count × (32-byte model hash | string address | u16 n | n × string input name) |
/// u16 m | m × string output name</c>.
/// The worker runs stage <c>current</c>, then sends every tensor later stages or the outputs need to the next
/// stage's worker (RUN with current + 1), or, at the last stage, a RESULT with the named outputs on its
/// connection from the reply-to client.
/// </summary>
public sealed record RunMessage(ushort TensorCount, Guid ReplyTo, int Current, RouteStage[] Stages, string[] Outputs)
{
    public const int MaxStages = 1024;

    public RouteStage Stage => Stages[Current];

    public bool IsLastStage => Current == Stages.Length - 1;

    public WireWriter Write()
    {
        var w = new WireWriter().U16(TensorCount).Bytes(ReplyTo.ToByteArray()).U16((ushort)Current).U16((ushort)Stages.Length);
        foreach (var stage in Stages)
        {
            w.Bytes(stage.ModelHash).String(stage.Address).Strings(stage.Inputs);
        }

        return w.Strings(Outputs);
    }

    public static RunMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        ushort tensors = r.U16();
        var replyTo = new Guid(r.Bytes(16));
        int current = r.U16();
        int count = r.U16();
        if (count == 0 || count > MaxStages || current >= count)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a route of {count} stages cannot be at stage {current}");
        }

        var stages = new RouteStage[count];
        for (int i = 0; i < count; i++)
        {
            stages[i] = new RouteStage(r.Bytes(Protocol.HashBytes).ToArray(), r.String(), r.Strings());
        }

        string[] outputs = r.Strings();
        r.End();
        return new RunMessage(tensors, replyTo, current, stages, outputs);
    }

    public RunMessage Next(ushort tensorCount) => this with { TensorCount = tensorCount, Current = Current + 1 };
}
