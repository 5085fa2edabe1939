using System.Buffers;
using System.Text;
using Tessera.Serving.Http2;

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
        HpackPrimitives.WriteLiteral(block, 4, path); // name of static entry 4 (:path)
        HpackPrimitives.WriteLiteral(block, 1, authority); // :authority
        HpackPrimitives.WriteLiteral(block, 31, "application/grpc"); // content-type
        HpackPrimitives.WriteLiteral(block, 0, "trailers", "te");
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
                int index = HpackPrimitives.ReadInteger(block, ref at, 7);
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
                HpackPrimitives.ReadInteger(block, ref at, 5); // dynamic table size update: ours stays 0
                continue;
            }

            int nameIndex = HpackPrimitives.ReadInteger(block, ref at, (first & 0xC0) == 0x40 ? 6 : 4); // with incremental indexing, or without / never indexed
            if (nameIndex > StaticEntries) throw Unreadable($"field name {nameIndex} is not in the static table");
            int used = 0;
            var name = nameIndex == 0 ? HpackPrimitives.ReadString(block, ref at, decoded, ref used) : default;
            var value = HpackPrimitives.ReadString(block, ref at, decoded, ref used);
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

    private static void Check(bool condition, string what)
    {
        if (!condition) throw Unreadable(what);
    }

    // Messages with a number are built only when thrown: a block is read on every call.
    private static IOException Unreadable(string what) => new($"HTTP/2 answer with a header block this client cannot read: {what}");
}
