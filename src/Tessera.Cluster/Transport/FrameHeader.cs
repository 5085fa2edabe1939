using System.Buffers.Binary;

namespace Tessera.Cluster.Transport;

/// <summary>
/// The 16 bytes in front of every frame (all little-endian):
/// <c>u32 payload length | u8 type | u8 flags (0) | u16 reserved (0) | u64 request id</c>.
/// The payload length counts the bytes after the header only.
/// </summary>
public readonly record struct FrameHeader(uint Length, FrameType Type, ulong RequestId)
{
    public const int Size = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Length);
        destination[4] = (byte)Type;
        destination[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
    }

    /// <summary>Parses a header; flags and reserved bytes must be zero so that garbage is caught early.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a frame header needs {Size} bytes, not {source.Length}");
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        byte type = source[4];
        if (source[5] != 0 || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "frame header has non-zero reserved bytes (not a Tessera peer?)");
        }

        if (!Enum.IsDefined((FrameType)type))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"unknown frame type {type}");
        }

        return new FrameHeader(length, (FrameType)type, BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
    }
}
