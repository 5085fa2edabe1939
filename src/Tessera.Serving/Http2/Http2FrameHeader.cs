using System.Buffers;
using System.Buffers.Binary;

namespace Tessera.Serving.Http2;

/// <summary>The 9 octets before every frame's payload (RFC 9113 §4.1).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, byte Flags, int StreamId)
{
    public const int Size = 9;
    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;

    public bool Has(byte flag) => (Flags & flag) != 0;

    /// <summary>The header at the start of <paramref name="buffer"/> (at least <see cref="Size"/> octets); the stream id's reserved bit is ignored, as §4.1 asks.</summary>
    public static Http2FrameHeader Read(ReadOnlySequence<byte> buffer)
    {
        Span<byte> octets = stackalloc byte[Size];
        buffer.Slice(0, Size).CopyTo(octets);
        return new((octets[0] << 16) | (octets[1] << 8) | octets[2], (Http2FrameType)octets[3], octets[4],
            (int)(BinaryPrimitives.ReadUInt32BigEndian(octets[5..]) & 0x7FFF_FFFF));
    }

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = Flags;
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], StreamId);
    }
}
