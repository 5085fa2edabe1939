using System.Buffers;

namespace Tessera.Serving.Http2;

/// <summary>HPACK's integers and strings (RFC 7541 §5.1, §5.2), read from a header block and written into one.</summary>
internal static class HpackPrimitives
{
    /// <summary>The integer at <paramref name="at"/> with an N-bit prefix; bounded to 2^28 so that no block makes it overflow.</summary>
    public static int ReadInteger(ReadOnlySpan<byte> block, ref int at, int prefixBits)
    {
        Check(at < block.Length, "the block ends inside a field");
        int max = (1 << prefixBits) - 1;
        int value = block[at++] & max;
        if (value < max)
        {
            return value;
        }

        for (int shift = 0; ; shift += 7)
        {
            Check(at < block.Length && shift <= 21, "an integer runs past the end of the block or over 2^28");
            byte next = block[at++];
            value += (next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }
    }

    /// <summary>The string at <paramref name="at"/>, decoded into <paramref name="decoded"/> after its first <paramref name="used"/> bytes when Huffman-coded.</summary>
    public static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, ref int at, Span<byte> decoded, ref int used)
    {
        Check(at < block.Length, "the block ends inside a field");
        bool huffman = (block[at] & 0x80) != 0;
        int length = ReadInteger(block, ref at, 7);
        Check(length <= block.Length - at, "a string runs past the end of the block");
        var text = block.Slice(at, length);
        at += length;
        if (!huffman)
        {
            return text;
        }

        int start = used;
        used += HpackHuffman.Decode(text, decoded[start..]);
        return decoded[start..used];
    }

    public static void WriteInteger(IBufferWriter<byte> block, byte high, int prefixBits, int value)
    {
        int max = (1 << prefixBits) - 1;
        var span = block.GetSpan(6);
        if (value < max)
        {
            span[0] = (byte)(high | value);
            block.Advance(1);
            return;
        }

        span[0] = (byte)(high | max);
        int i = 1;
        for (value -= max; value >= 0x80; value >>= 7)
        {
            span[i++] = (byte)(value | 0x80);
        }

        span[i++] = (byte)value;
        block.Advance(i);
    }

    /// <summary>A string not Huffman-coded: its characters as Latin-1 octets (header values here are ASCII).</summary>
    public static void WriteString(IBufferWriter<byte> block, string text)
    {
        WriteInteger(block, 0x00, 7, text.Length);
        var span = block.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        block.Advance(text.Length);
    }

    /// <summary>A field as a literal without indexing (§6.2.2): a static table name when <paramref name="nameIndex"/> is not 0, else <paramref name="name"/>.</summary>
    public static void WriteLiteral(IBufferWriter<byte> block, int nameIndex, string value, string? name = null)
    {
        WriteInteger(block, 0x00, 4, nameIndex);
        if (nameIndex == 0) WriteString(block, name!);
        WriteString(block, value);
    }

    public static void Check(bool condition, string what)
    {
        if (!condition) throw new HpackException($"malformed HPACK header block: {what}");
    }
}
