using System.Buffers.Binary;

namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// COLLECTIVE payload (worker → worker, on the sender's peer link to the receiver; the frame's request id is the
/// request's): <c>u8 kind | u8 block wire type | u16 sender rank | u16 group size | u16 stage | 16-byte reply-to
/// client id | string key</c>, then for kind 0 (block) <c>u32 block length | block bytes</c> (the rest of the frame),
/// for kind 1 (abort) <c>string reason</c>. The block wire type is 0 for a block of bytes as they are (and for an
/// abort), or 10 (float16) or 16 (bfloat16) for float32 elements narrowed on the way (<see cref="WireEncoding"/>).
/// A group run is named by (reply-to, request id, stage): request ids are unique per coordinator, and one request runs
/// each stage's group once. An abort names no key (empty) and fails every collective of that run on the receiver.
/// </summary>
public sealed record CollectiveMessage(CollectiveKind Kind, int SenderRank, int GroupSize, int Stage, Guid ReplyTo, string Key, string Reason)
{
    /// <summary>Bytes up to and including the key's length: enough to know how long the part before a block is.</summary>
    public const int PrefixSize = 26;

    /// <summary>How a block's float32 elements travel; <see cref="WireDataType.Float32"/>: its bytes as they are (written as 0).</summary>
    public WireDataType Wire { get; init; } = WireDataType.Float32;

    /// <summary>For a block frame: the bytes before the block, given the prefix (0 for an abort, which is read whole).</summary>
    public static int MetaSizeFromPrefix(ReadOnlySpan<byte> prefix) =>
        (CollectiveKind)prefix[0] == CollectiveKind.Block ? PrefixSize + BinaryPrimitives.ReadUInt16LittleEndian(prefix[24..]) + 4 : 0;

    /// <summary>The bytes that precede the block of a block frame (or the whole abort payload).</summary>
    public WireWriter Write(int blockLength)
    {
        var w = new WireWriter().U8((byte)Kind).U8(Wire == WireDataType.Float32 ? (byte)0 : (byte)Wire).U16((ushort)SenderRank).U16((ushort)GroupSize).U16((ushort)Stage)
            .Bytes(ReplyTo.ToByteArray()).String(Key);
        return Kind == CollectiveKind.Block ? w.U32((uint)blockLength) : w.String(Reason);
    }

    /// <summary>Reads the part before the block; <paramref name="blockLength"/> is what followed it in the frame.</summary>
    public static CollectiveMessage Read(ReadOnlySpan<byte> payload, int blockLength)
    {
        var r = new WireReader(payload);
        var kind = (CollectiveKind)r.U8();
        byte wire = r.U8();
        if (kind is not (CollectiveKind.Block or CollectiveKind.Abort))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"collective frame of unknown kind {(byte)kind}");
        }

        if (wire != 0 && (kind == CollectiveKind.Abort || wire is not ((byte)WireDataType.Float16 or (byte)WireDataType.BFloat16)))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a collective {kind} frame with block wire type {wire}");
        }

        int sender = r.U16();
        int size = r.U16();
        int stage = r.U16();
        var replyTo = new Guid(r.Bytes(16));
        string key = r.String();
        string reason = string.Empty;
        if (kind == CollectiveKind.Block)
        {
            if (r.U32() != (uint)blockLength)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"collective block '{key}' announces another length than its frame carries ({blockLength} bytes)");
            }
        }
        else
        {
            reason = r.String();
        }

        r.End();
        if (size == 0 || size > RunMessage.MaxRanks || sender >= size)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"collective frame from rank {sender} of a group of {size}");
        }

        return new CollectiveMessage(kind, sender, size, stage, replyTo, key, reason) { Wire = wire == 0 ? WireDataType.Float32 : (WireDataType)wire };
    }
}
