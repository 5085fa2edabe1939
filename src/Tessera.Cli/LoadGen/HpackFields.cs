using System.Buffers;
using System.Text;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// The HPACK (RFC 7541) a unary gRPC client needs: a request's header block, and from an answer's header blocks the
/// two fields a call's outcome depends on, <c>:status</c> and <c>grpc-status</c>. The connection announces a dynamic
/// table of 0 bytes, so the server indexes nothing and every block decodes on its own. Strings are read plain or
/// Huffman-coded (<see cref="HpackHuffman"/>): Kestrel never codes them, other servers' encoders often do.
/// </summary>
internal static class HpackFields
{
    private const int StaticEntries = 61;
    private const int StatusFirst = 8; // :status 200, 204, 206, 304, 400, 404, 500 are static entries 8..14
    private const int StackDecoded = 512; // Huffman-decoded strings of a block up to 320 bytes, on the stack
    private static readonly int[] s_staticStatus = [200, 204, 206, 304, 400, 404, 500];

    /// <summary>The request's header block: a POST of <paramref name="path"/> with content-type application/grpc.</summary>
    public static byte[] Request(string authority, string path)
    {
        var block = new ArrayBufferWriter<byte>(128);
        block.Write<byte>([0x83, 0x86]); // static entries 3 (:method POST) and 6 (:scheme http)
        Literal(block, 4, path); // name of static entry 4 (:path)
        Literal(block, 1, authority); // :authority
        Literal(block, 31, "application/grpc"); // content-type
        Literal(block, 0, "trailers", "te");
        return block.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The <c>:status</c> and <c>grpc-status</c> of one whole header block, each null when the block has none.
    /// Throws <see cref="IOException"/> for a block this decoder cannot read.
    /// </summary>
    public static (int? HttpStatus, string? GrpcStatus) Read(ReadOnlySpan<byte> block)
    {
        // A field's two strings are coded within the block, so they decode into this many bytes at most.
        int decodedMax = HpackHuffman.MaxDecodedLength(block.Length);
        byte[]? rented = decodedMax > StackDecoded ? ArrayPool<byte>.Shared.Rent(decodedMax) : null;
        try
        {
            return Read(block, rented ?? stackalloc byte[StackDecoded]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static (int? HttpStatus, string? GrpcStatus) Read(ReadOnlySpan<byte> block, Span<byte> decoded)
    {
        int? httpStatus = null;
        string? grpcStatus = null;
        int at = 0;
        while (at < block.Length)
        {
            byte first = block[at];
            if ((first & 0x80) != 0)
            {
                int index = Integer(block, ref at, 7);
                if (index is < StatusFirst or > StatusFirst + 6)
                {
                    if (index is < 1 or > StaticEntries) throw Unreadable($"indexed field {index} is not in the static table");
                    continue;
                }

                httpStatus = s_staticStatus[index - StatusFirst];
                continue;
            }

            if ((first & 0xE0) == 0x20)
            {
                Integer(block, ref at, 5); // dynamic table size update: ours stays 0
                continue;
            }

            int nameIndex = Integer(block, ref at, (first & 0xC0) == 0x40 ? 6 : 4); // with incremental indexing, or without / never indexed
            if (nameIndex > StaticEntries) throw Unreadable($"field name {nameIndex} is not in the static table");
            int used = 0;
            var name = nameIndex == 0 ? String(block, ref at, decoded, ref used) : default;
            var value = String(block, ref at, decoded, ref used);
            if (nameIndex is >= StatusFirst and <= StatusFirst + 6)
            {
                httpStatus = int.TryParse(value, out int status) ? status : throw new IOException("HTTP/2 answer with a :status that is not a number");
            }
            else if (nameIndex == 0 && name.SequenceEqual("grpc-status"u8))
            {
                grpcStatus = Encoding.ASCII.GetString(value);
            }
        }

        return (httpStatus, grpcStatus);
    }

    private static void Literal(ArrayBufferWriter<byte> block, int nameIndex, string value, string? name = null)
    {
        WriteInteger(block, 0x00, 4, nameIndex); // literal without indexing
        if (name is not null) WriteString(block, name);
        WriteString(block, value);
    }

    private static void WriteString(ArrayBufferWriter<byte> block, string text)
    {
        WriteInteger(block, 0x00, 7, text.Length); // not Huffman-coded
        block.Write(Encoding.ASCII.GetBytes(text));
    }

    private static void WriteInteger(ArrayBufferWriter<byte> block, byte high, int prefixBits, int value)
    {
        int max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Write([(byte)(high | value)]);
            return;
        }

        block.Write([(byte)(high | max)]);
        for (value -= max; value >= 0x80; value >>= 7)
        {
            block.Write([(byte)(value | 0x80)]);
        }

        block.Write([(byte)value]);
    }

    /// <summary>The string at <paramref name="at"/>, decoded into <paramref name="decoded"/> after its first <paramref name="used"/> bytes when Huffman-coded.</summary>
    private static ReadOnlySpan<byte> String(ReadOnlySpan<byte> block, ref int at, Span<byte> decoded, ref int used)
    {
        Check(at < block.Length, "the block ends inside a field");
        bool huffman = (block[at] & 0x80) != 0;
        int length = Integer(block, ref at, 7);
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

    private static int Integer(ReadOnlySpan<byte> block, ref int at, int prefixBits)
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

    private static void Check(bool condition, string what)
    {
        if (!condition) throw Unreadable(what);
    }

    // Messages with a number are built only when thrown: a block is read on every call.
    private static IOException Unreadable(string what) => new($"HTTP/2 answer with a header block this client cannot read: {what}");
}
