using System.Buffers;
using System.Text;

namespace Tessera.Serving.Http2;

/// <summary>
/// Decodes a connection's request header blocks (RFC 7541): indexed fields from the static and dynamic tables,
/// literals with and without indexing, table size updates, plain and Huffman-coded strings. One per connection:
/// the dynamic table is the state the client's encoder shares with it, so every block is decoded in full, in order,
/// even one whose fields are refused. Throws <see cref="HpackException"/> for a block it cannot decode.
/// </summary>
internal sealed class HpackDecoder
{
    private const int StackDecoded = 1024;

    private readonly HpackDynamicTable _table;
    private readonly int _maxTableSize;

    /// <param name="maxTableSize">SETTINGS_HEADER_TABLE_SIZE as announced (the protocol's 4096 unless changed).</param>
    public HpackDecoder(int maxTableSize)
    {
        _maxTableSize = maxTableSize;
        _table = new HpackDynamicTable(maxTableSize);
    }

    /// <summary>
    /// Adds the fields of <paramref name="block"/> to <paramref name="fields"/> until their size (name, value and
    /// 32 octets each, as SETTINGS_MAX_HEADER_LIST_SIZE counts) would pass <paramref name="maxListSize"/>; returns
    /// false when some were left out for that.
    /// </summary>
    public bool Decode(ReadOnlySpan<byte> block, List<KeyValuePair<string, string>> fields, int maxListSize)
    {
        int decodedMax = HpackHuffman.MaxDecodedLength(block.Length);
        byte[]? rented = decodedMax > StackDecoded ? ArrayPool<byte>.Shared.Rent(decodedMax) : null;
        try
        {
            return Decode(block, rented ?? stackalloc byte[StackDecoded], fields, maxListSize);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool Decode(ReadOnlySpan<byte> block, Span<byte> decoded, List<KeyValuePair<string, string>> fields, int maxListSize)
    {
        int listSize = 0;
        bool complete = true;
        bool fieldSeen = false;
        int at = 0;
        while (at < block.Length)
        {
            byte first = block[at];
            string name, value;
            if ((first & 0x80) != 0)
            {
                (name, value) = Entry(HpackPrimitives.ReadInteger(block, ref at, 7));
            }
            else if ((first & 0xE0) == 0x20)
            {
                int size = HpackPrimitives.ReadInteger(block, ref at, 5);
                HpackPrimitives.Check(!fieldSeen, "a dynamic table size update after a field");
                HpackPrimitives.Check(size <= _maxTableSize, $"a dynamic table size of {size} over the {_maxTableSize} announced");
                _table.Resize(size);
                continue;
            }
            else
            {
                bool indexed = (first & 0xC0) == 0x40;
                int nameIndex = HpackPrimitives.ReadInteger(block, ref at, indexed ? 6 : 4);
                int used = 0;
                name = nameIndex == 0 ? Text(HpackPrimitives.ReadString(block, ref at, decoded, ref used)) : Entry(nameIndex).Name;
                value = Text(HpackPrimitives.ReadString(block, ref at, decoded, ref used));
                if (indexed) _table.Add(name, value);
            }

            fieldSeen = true;
            listSize += name.Length + value.Length + 32;
            if (listSize > maxListSize)
            {
                complete = false;
                continue;
            }

            fields.Add(new(name, value));
        }

        return complete;
    }

    private (string Name, string Value) Entry(int index)
    {
        HpackPrimitives.Check(index >= 1, "indexed field 0");
        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Entry(index);
        }

        HpackPrimitives.Check(index - HpackStaticTable.Count <= _table.Count, $"index {index} is past the end of the dynamic table");
        return _table[index - HpackStaticTable.Count];
    }

    private static string Text(ReadOnlySpan<byte> octets) => Encoding.Latin1.GetString(octets);
}
