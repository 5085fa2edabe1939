using System.Buffers.Binary;
using System.Text;

namespace Tessera.Cluster.Transport;

/// <summary>Reads a control payload written by <see cref="WireWriter"/>; any underflow or bad UTF-8 is a Malformed error.</summary>
public ref struct WireReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private ReadOnlySpan<byte> _rest;

    public WireReader(ReadOnlySpan<byte> payload)
    {
        _rest = payload;
    }

    public readonly int Remaining => _rest.Length;

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    public string String()
    {
        int length = U16();
        try
        {
            return s_strictUtf8.GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a string on the wire is not valid UTF-8");
        }
    }

    /// <summary>
    /// A u16 count of items that take at least <paramref name="minBytesEach"/> bytes each, checked against the bytes left
    /// before the caller allocates for them (two bytes must not make a decoder allocate 65535 of anything).
    /// </summary>
    public int Count(int minBytesEach)
    {
        int count = U16();
        if ((long)count * minBytesEach > _rest.Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a message announces {count} items in {_rest.Length} bytes");
        }

        return count;
    }

    public string[] Strings()
    {
        int count = Count(minBytesEach: 2);
        var values = new string[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = String();
        }

        return values;
    }

    /// <summary>Every byte must be consumed: trailing bytes mean the peer and we disagree on the format.</summary>
    public readonly void End()
    {
        if (_rest.Length != 0)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"{_rest.Length} unexpected bytes at the end of a message");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _rest.Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a message ends too early");
        }

        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
