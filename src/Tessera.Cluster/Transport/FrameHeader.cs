using System.Buffers.Binary;

namespace Tessera.Cluster.Transport;

/// <summary>
/// The 16 bytes in front of every frame (all little-endian):
/// <c>u32 payload length | u8 type | u8 flags | u16 reserved (0) | u64 request id</c>.
/// The payload length counts the bytes after the header only. The only flag is <see cref="SharedMemoryFlag"/>, on Tensor frames.
/// </summary>
public readonly record struct FrameHeader(uint Length, FrameType Type, ulong RequestId, byte Flags = 0)
{
    /// <summary>A Tensor frame whose bytes wait in the connection's shared-memory ring: the payload ends with their u64 position instead.</summary>
    public const byte SharedMemoryFlag = 1;

    public const int Size = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Length);
        destination[4] = (byte)Type;
        destination[5] = Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
    }

    /// <summary>Parses a header; reserved bytes must be zero and flags known so that garbage is caught early.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a frame header needs {Size} bytes, not {source.Length}");
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        byte type = source[4];
        byte flags = source[5];
        if (BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "frame header has non-zero reserved bytes (not a Tessera peer?)");
        }

        if (!Enum.IsDefined((FrameType)type))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"unknown frame type {type}");
        }

        if (flags != 0 && (flags != SharedMemoryFlag || (FrameType)type != FrameType.Tensor))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a {(FrameType)type} frame with flags {flags}");
        }

        return new FrameHeader(length, (FrameType)type, BinaryPrimitives.ReadUInt64LittleEndian(source[8..]), flags);
    }
}
