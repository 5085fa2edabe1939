namespace Tessera.Cluster.Transport.Messages;

/// <summary>SHARED_MEMORY_ANSWER payload, server → client: <c>u8 accepted (0 or 1) | string why not (empty when accepted)</c>.</summary>
public sealed record SharedMemoryAnswerMessage(bool Accepted, string Reason)
{
    public WireWriter Write() => new WireWriter().U8(Accepted ? (byte)1 : (byte)0).String(Reason);

    public static SharedMemoryAnswerMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        byte accepted = r.U8();
        string reason = r.String();
        r.End();
        if (accepted > 1)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a shared-memory answer of {accepted}");
        }

        return new SharedMemoryAnswerMessage(accepted == 1, reason);
    }
}
