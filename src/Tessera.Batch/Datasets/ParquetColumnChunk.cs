using System.Runtime.InteropServices;
using Parquet;
using Parquet.Schema;
using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>
/// One column of one row group decoded to raw little-endian elements, checked to be a tensor per record: no nulls,
/// and for a list column the same number of values in every record.
/// </summary>
internal sealed class ParquetColumnChunk
{
    /// <summary>Values of one column in one row group at most, whatever their type: 2 GiB of 8-byte values.</summary>
    public const long MaxValues = int.MaxValue / 8;

    // The decoded T[]: read as bytes, not copied to a byte[].
    private readonly Array _values;
    private readonly int _byteLength;

    private ParquetColumnChunk(Array values, int byteLength, int valuesPerRecord)
    {
        _values = values;
        _byteLength = byteLength;
        ValuesPerRecord = valuesPerRecord;
    }

    /// <summary>The elements of every record, record after record.</summary>
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(_values), _byteLength);

    public int ValuesPerRecord { get; }

    /// <summary>
    /// Column <paramref name="field"/> of row group <paramref name="group"/>, read by Parquet.Net from
    /// <paramref name="file"/> once its pages are checked (<see cref="ParquetPageCheck"/>), held to the chunk's bytes.
    /// </summary>
    public static async Task<ParquetColumnChunk> ReadAsync(ParquetFence file, ParquetRowGroupReader group, int groupIndex, DataField field, DataType type, string column, long maxValues, CancellationToken cancellation)
    {
        var meta = group.GetMetadata(field)?.MetaData;
        long rows = group.RowCount, count = meta?.NumValues ?? rows;
        if (count < 0 || rows < 0) throw new BatchException($"column '{column}' declares {count} values in {rows} rows");
        if (count > maxValues) throw new BatchException($"column '{column}' has a row group of {count} values, more than the {maxValues} batch decodes at once: write smaller row groups");
        if (meta is not null)
        {
            var (start, end) = ParquetPageCheck.Check(file, meta, column, groupIndex);
            file.Enclose(start, end, $"column '{column}' in row group {groupIndex}: its pages decode to fewer values than they declare (Parquet.Net read on past the column chunk)");
        }

        try
        {
            return await ReadAsync(group, field, type, column, count, cancellation).ConfigureAwait(false);
        }
        finally
        {
            file.Open();
        }
    }

    private static async Task<ParquetColumnChunk> ReadAsync(ParquetRowGroupReader group, DataField field, DataType type, string column, long count, CancellationToken cancellation) => type switch
    {
        DataType.Float32 => await ReadAsync<float>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Float64 => await ReadAsync<double>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Int32 => await ReadAsync<int>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Int64 => await ReadAsync<long>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Int16 => await ReadAsync<short>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Int8 => await ReadAsync<sbyte>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.UInt8 => await ReadAsync<byte>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.UInt16 => await ReadAsync<ushort>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.UInt32 => await ReadAsync<uint>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.UInt64 => await ReadAsync<ulong>(group, field, column, count, cancellation).ConfigureAwait(false),
        DataType.Bool => await ReadAsync<bool>(group, field, column, count, cancellation).ConfigureAwait(false),
        _ => throw new BatchException($"column '{column}' holds {DataTypes.Name(type)}, which batch does not read"),
    };

    private static async Task<ParquetColumnChunk> ReadAsync<T>(ParquetRowGroupReader group, DataField field, string column, long count, CancellationToken cancellation) where T : unmanaged
    {
        long rows = group.RowCount;
        var values = new T[count];
        int[]? definitions = field.MaxDefinitionLevel > 0 ? new int[count] : null;
        int[]? repetitions = field.MaxRepetitionLevel > 0 ? new int[count] : null;
        await group.ReadRawAsync<T>(field, values, Levels(definitions), Levels(repetitions), cancellation).ConfigureAwait(false);
        if (definitions is not null && definitions.Any(d => d != field.MaxDefinitionLevel))
        {
            throw new BatchException($"column '{column}' has a null or empty value: every record needs a value");
        }

        int perRecord = rows == 0 ? 0 : (int)(count / rows);
        bool even = perRecord * rows == count;
        if (repetitions is not null && even)
        {
            for (int i = 0; i < repetitions.Length && even; i++) even = (repetitions[i] == 0) == (i % perRecord == 0);
        }

        if (!even) throw new BatchException($"column '{column}' holds lists of different lengths: batch needs fixed-size lists (one tensor per record)");
        return new ParquetColumnChunk(values, MemoryMarshal.AsBytes(values.AsSpan()).Length, perRecord);
    }

    // A null array converts to an empty Memory, not to "none", and Parquet.Net then wants levels that a required column has not.
    private static Memory<int>? Levels(int[]? levels) => levels is null ? default(Memory<int>?) : new Memory<int>(levels);
}
