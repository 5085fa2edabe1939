using System.Buffers.Binary;

namespace Tessera.Batch.Datasets;

/// <summary>
/// Walks a Parquet file's footer (Thrift compact protocol) against parquet.thrift's structures before Parquet.Net
/// reads it, and refuses a footer Parquet.Net 6.1 would get lost in. Parquet.Net reads a field it knows by its id
/// whatever type the wire gives it, trusts a list's count, skips a boolean or double list element (and a double field
/// it does not know) as no bytes at all, and once misaligned reads past the footer's end, where every byte reads as
/// 0xFF and a varint never ends: a 300-byte file kept it busy for minutes. So every known field must have its declared
/// type (list elements too), a collection may declare no more elements than bytes remain, and there are no doubles,
/// maps or booleans in lists anywhere (the footer's structures have none, bar a geospatial bounding box). A file too
/// short to have a footer is left to Parquet.Net.
/// </summary>
internal static class ParquetFooterCheck
{
    private const int MaxDepth = 32;

    public static void Check(Stream stream, string source)
    {
        if (stream.Length < 12) return;
        Span<byte> tail = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        long length = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (!tail[4..].SequenceEqual("PAR1"u8) || length > stream.Length - 12) return;

        byte[] footer = new byte[length];
        stream.Seek(-8 - length, SeekOrigin.End);
        stream.ReadExactly(footer);
        stream.Seek(0, SeekOrigin.Begin);
        int at = 0;
        if (!Struct(footer, ref at, ParquetThrift.FileMetaData, 0))
        {
            throw new BatchException($"cannot read '{source}' as Parquet: its footer (the Thrift metadata) is malformed");
        }
    }

    private static bool Struct(ReadOnlySpan<byte> data, ref int at, IReadOnlyDictionary<int, ParquetThrift.Field>? known, int depth)
    {
        if (depth > MaxDepth) return false;
        int id = 0;
        while (at < data.Length)
        {
            byte header = data[at++];
            int type = header & 0x0F;
            if (type == 0) return true; // STOP
            if ((header >> 4) != 0) id += header >> 4;
            else if (VarInt(data, ref at, out ulong full)) id = (short)(ushort)((full >> 1) ^ (0 - (full & 1))); // zigzag i16
            else return false;

            if (known is not null && known.TryGetValue(id, out var field))
            {
                bool matches = field.Type == type || (field.Type == ParquetThrift.Bool && type is 1 or 2);
                if (!matches || !Value(data, ref at, type, field, depth)) return false;
            }
            else if (!Value(data, ref at, type, null, depth))
            {
                return false;
            }
        }

        return false;
    }

    private static bool Value(ReadOnlySpan<byte> data, ref int at, int type, ParquetThrift.Field? field, int depth)
    {
        switch (type)
        {
            case 1 or 2: return true; // a boolean field: the value is in its type
            case 3: return Skip(data, ref at, 1);
            case 4 or 5 or 6: return VarInt(data, ref at, out _);
            case 8: return VarInt(data, ref at, out ulong bytes) && Skip(data, ref at, bytes);
            case 9 or 10: return List(data, ref at, field, depth);
            case 12: return Struct(data, ref at, field?.Members, depth + 1);
            default: return false; // 7, a double; 11, a map; anything else
        }
    }

    private static bool List(ReadOnlySpan<byte> data, ref int at, ParquetThrift.Field? field, int depth)
    {
        if (at >= data.Length) return false;
        byte header = data[at++];
        ulong count = (ulong)(header >> 4);
        if (count == 15 && !VarInt(data, ref at, out count)) return false;
        int element = header & 0x0F;
        if (count > (ulong)(data.Length - at) || element is 1 or 2) return false;
        if (field is not null && element != field.Element) return false;
        var members = field is null ? null : new ParquetThrift.Field(field.Element, 0, field.Members);
        for (ulong i = 0; i < count; i++)
        {
            if (!Value(data, ref at, element, members, depth + 1)) return false;
        }

        return true;
    }

    private static bool Skip(ReadOnlySpan<byte> data, ref int at, ulong bytes)
    {
        if (bytes > (ulong)(data.Length - at)) return false;
        at += (int)bytes;
        return true;
    }

    private static bool VarInt(ReadOnlySpan<byte> data, ref int at, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < data.Length; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return true;
        }

        return false;
    }
}
