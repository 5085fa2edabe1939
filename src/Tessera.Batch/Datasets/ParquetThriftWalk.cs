namespace Tessera.Batch.Datasets;

/// <summary>
/// A bounded walk over Thrift compact-protocol bytes against parquet.thrift's structures (<see cref="ParquetThrift"/>),
/// refusing (false) anything Parquet.Net 6.1's generated reader would read differently from the wire: that reader reads
/// a field it knows by its id whatever type the wire gives it, trusts a list's count, skips a boolean list element as
/// no bytes, skips a struct it does not know by reading field headers only (not their values), and once misaligned
/// reads past the end, where every byte reads as 0xFF and a varint never ends. So every known field must have its
/// declared type (list elements too), i16 and i32 varints must fit in 32 bits (as that reader keeps them), a
/// collection may declare no more elements than bytes remain, and there are no doubles, maps, booleans in lists or
/// structs the structures do not name, no STOP type with a field id; nesting is shallow. Unknown fields of other types
/// are skipped. The values of fields marked with a <see cref="ParquetThrift.Field.Capture"/> slot are stored there (a
/// boolean as 0 or 1, a struct as 1 for present).
/// </summary>
internal static class ParquetThriftWalk
{
    private const int MaxDepth = 32;

    public static bool Struct(ReadOnlySpan<byte> data, ref int at, IReadOnlyDictionary<int, ParquetThrift.Field> known, Span<long> captured) =>
        Struct(data, ref at, known, 0, captured);

    private static bool Struct(ReadOnlySpan<byte> data, ref int at, IReadOnlyDictionary<int, ParquetThrift.Field>? known, int depth, Span<long> captured)
    {
        if (depth > MaxDepth) return false;
        short id = 0; // Parquet.Net keeps ids in an i16, deltas wrapping as they do there
        while (at < data.Length)
        {
            byte header = data[at++];
            int type = header & 0x0F;
            if (header == 0) return true; // STOP: the whole byte; Parquet.Net reads a STOP type with an id delta as a field
            if (type == 0) return false;
            if ((header >> 4) != 0) id = (short)(id + (header >> 4));
            else if (VarInt32(data, ref at, out uint full)) id = (short)ZigZag(full);
            else return false;

            if (known is not null && known.TryGetValue(id, out var field))
            {
                bool matches = field.Type == type || (field.Type == ParquetThrift.Bool && type is 1 or 2);
                if (!matches || !Value(data, ref at, type, field, depth, captured)) return false;
            }
            else if (!Value(data, ref at, type, null, depth, captured))
            {
                return false;
            }
        }

        return false;
    }

    private static bool Value(ReadOnlySpan<byte> data, ref int at, int type, ParquetThrift.Field? field, int depth, Span<long> captured)
    {
        int slot = field?.Capture ?? -1;
        switch (type)
        {
            case 1 or 2: // a boolean field: the value is in its type
                if (slot >= 0) captured[slot] = type == 1 ? 1 : 0;
                return true;
            case 3: return Skip(data, ref at, 1);
            case 4 or 5:
                if (!VarInt32(data, ref at, out uint small)) return false;
                if (slot >= 0) captured[slot] = ZigZag(small);
                return true;
            case 6:
                if (!VarInt(data, ref at, out ulong large)) return false;
                if (slot >= 0) captured[slot] = (long)(large >> 1) ^ -(long)(large & 1);
                return true;
            case 8: return VarInt(data, ref at, out ulong bytes) && Skip(data, ref at, bytes);
            case 9 or 10: return List(data, ref at, field, depth, captured);
            case 12:
                if (field is null) return false; // Parquet.Net would skip it wrongly
                if (slot >= 0)
                {
                    // A struct read again replaces the one before in Parquet.Net, fields it lacks back to their defaults.
                    captured[slot] = 1;
                    foreach (var member in field.Members!.Values.Where(m => m.Capture >= 0)) captured[member.Capture] = long.MinValue;
                }

                return Struct(data, ref at, field.Members, depth + 1, captured);
            default: return false; // 7, a double; 11, a map; anything else
        }
    }

    private static bool List(ReadOnlySpan<byte> data, ref int at, ParquetThrift.Field? field, int depth, Span<long> captured)
    {
        if (depth > MaxDepth || at >= data.Length) return false; // lists of lists nest as deep as structs
        byte header = data[at++];
        ulong count = (ulong)(header >> 4);
        if (count == 15 && !VarInt(data, ref at, out count)) return false;
        int element = header & 0x0F;
        if (count > (ulong)(data.Length - at) || element is 1 or 2) return false;
        if (field is not null && element != field.Element) return false;
        var members = field is null ? null : new ParquetThrift.Field(field.Element, 0, field.Members);
        for (ulong i = 0; i < count; i++)
        {
            if (!Value(data, ref at, element, members, depth + 1, captured)) return false;
        }

        return true;
    }

    private static bool Skip(ReadOnlySpan<byte> data, ref int at, ulong bytes)
    {
        if (bytes > (ulong)(data.Length - at)) return false;
        at += (int)bytes;
        return true;
    }

    private static int ZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);

    /// <summary>A varint of 32 bits at most (five bytes, the last holding four bits), as Parquet.Net reads i16 and i32.</summary>
    private static bool VarInt32(ReadOnlySpan<byte> data, ref int at, out uint value)
    {
        value = 0;
        if (!VarInt(data, ref at, out ulong full) || full > uint.MaxValue) return false;
        value = (uint)full;
        return true;
    }

    /// <summary>A varint of ten bytes at most.</summary>
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
