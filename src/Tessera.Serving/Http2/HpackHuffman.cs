namespace Tessera.Serving.Http2;

/// <summary>
/// Decodes HPACK's Huffman-coded strings (RFC 7541 §5.2, code of Appendix B). The code is canonical: its codes are
/// assigned in order of (length, symbol), so the 257 code lengths alone define it, and a code read bit by bit is
/// found by its offset from the first code of its length.
/// </summary>
internal static class HpackHuffman
{
    private const int Eos = 256;
    private const int MaxLength = 30;

    /// <summary>Shortest code is 5 bits: a coded string of n bytes decodes to at most this many bytes.</summary>
    public static int MaxDecodedLength(int codedLength) => codedLength * 8 / 5;

    // Code length of each symbol 0..255 and EOS (256), RFC 7541 Appendix B.
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6,
        12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13,
        14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    // For each length: how many codes it has, its first code, and where its symbols start in s_symbols. Static
    // fields are initialized in the order written, so each may read the ones above it.
    private static readonly int[] s_count = CountByLength();
    private static readonly int[] s_firstCode = FirstCodeByLength();
    private static readonly int[] s_firstSymbol = FirstSymbolByLength();
    private static readonly short[] s_symbols = SymbolsByCode();

    /// <summary>
    /// Decodes <paramref name="coded"/> into <paramref name="decoded"/> (at least
    /// <see cref="MaxDecodedLength"/> bytes) and returns the decoded length. Throws <see cref="HpackException"/> for
    /// EOS inside the string, or padding longer than 7 bits or not all ones.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> coded, Span<byte> decoded)
    {
        if (decoded.Length < MaxDecodedLength(coded.Length))
        {
            throw new ArgumentException("the buffer is shorter than the longest decoding", nameof(decoded));
        }

        int written = 0, code = 0, length = 0;
        foreach (byte octet in coded)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | ((octet >> bit) & 1);
                length++;
                uint offset = (uint)(code - s_firstCode[length]);
                if (offset >= (uint)s_count[length])
                {
                    continue; // a code's prefix: codes of this length are below it, longer ones above
                }

                int symbol = s_symbols[s_firstSymbol[length] + (int)offset];
                Check(symbol != Eos, "EOS inside a Huffman-coded string");
                decoded[written++] = (byte)symbol;
                code = 0;
                length = 0;
            }
        }

        Check(length <= 7, "Huffman padding longer than 7 bits");
        Check(code == (1 << length) - 1, "Huffman padding that is not all ones");
        return written;
    }

    private static int[] CountByLength()
    {
        var count = new int[MaxLength + 1];
        foreach (byte length in Lengths)
        {
            count[length]++;
        }

        return count;
    }

    private static int[] FirstCodeByLength()
    {
        var first = new int[MaxLength + 1];
        for (int length = 1; length <= MaxLength; length++)
        {
            first[length] = (first[length - 1] + s_count[length - 1]) << 1;
        }

        return first;
    }

    private static int[] FirstSymbolByLength()
    {
        var first = new int[MaxLength + 1];
        for (int length = 1; length <= MaxLength; length++)
        {
            first[length] = first[length - 1] + s_count[length - 1];
        }

        return first;
    }

    private static short[] SymbolsByCode()
    {
        var symbols = new short[Eos + 1];
        int next = 0;
        for (int length = 1; length <= MaxLength; length++)
        {
            for (int symbol = 0; symbol <= Eos; symbol++)
            {
                if (Lengths[symbol] == length) symbols[next++] = (short)symbol;
            }
        }

        return symbols;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new HpackException($"malformed HPACK header block: {what} (RFC 7541 §5.2)");
        }
    }
}
