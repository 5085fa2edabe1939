using System.Globalization;
using Parquet;
using Parquet.Schema;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>
/// A Parquet file whose columns are the model's inputs, by name: a column of numbers gives each record one value, a
/// list column of one length (an Arrow fixed-size list) one tensor, shaped as the model's input declares. Row groups
/// are decoded whole, one at a time (the last one is kept for the next read), so memory holds one row group.
/// </summary>
internal sealed class ParquetDataset : IDataset
{
    private readonly ParquetReader _reader;
    private readonly ParquetFence _file;
    private readonly DataField[] _fields;
    private readonly string[] _names;
    private readonly long[] _groupStarts;
    private readonly long _maxRowGroupValues;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private (int Group, ParquetColumnChunk[] Chunks)? _cached;

    private ParquetDataset(string source, string identity, ParquetFence file, ParquetReader reader, DataField[] fields, string[] names, long[] groupStarts, long maxRowGroupValues)
    {
        _file = file;
        _maxRowGroupValues = maxRowGroupValues;
        Source = source;
        Identity = identity;
        _reader = reader;
        _fields = fields;
        _names = names;
        _groupStarts = groupStarts;
        Records = groupStarts[^1];
    }

    public string Source { get; }

    public long Records { get; }

    public IReadOnlyList<DatasetColumn> Columns { get; private set; } = [];

    public string Identity { get; }

    public static async Task<ParquetDataset> OpenAsync(string path, IReadOnlyList<ValueInfo> inputs, CancellationToken cancellation)
    {
        var file = new FileInfo(path);
        string identity = string.Create(CultureInfo.InvariantCulture, $"{file.Name} {file.Length} bytes {file.LastWriteTimeUtc:O}");
        var stream = File.OpenRead(path);
        try
        {
            return await OpenAsync(stream, path, identity, inputs, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The dataset in <paramref name="stream"/>, which it owns from here on (disposed with it); <paramref name="source"/>
    /// names it in messages. The fuzz target reads files from memory through this, with a small
    /// <paramref name="maxRowGroupValues"/>: a row group is decoded whole into arrays of the size its metadata declares,
    /// so that limit (values of one column in one row group) is what a file can make batch allocate.
    /// </summary>
    internal static async Task<ParquetDataset> OpenAsync(Stream stream, string source, string identity, IReadOnlyList<ValueInfo> inputs, CancellationToken cancellation, long maxRowGroupValues = ParquetColumnChunk.MaxValues)
    {
        ParquetFooterCheck.Check(stream, source);
        var file = new ParquetFence(stream);
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(file, leaveStreamOpen: false, cancellationToken: cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (BatchException or OperationCanceledException or OutOfMemoryException))
        {
            throw new BatchException($"cannot read '{source}' as Parquet: {e.Message}");
        }

        try
        {
            var fields = new DataField[inputs.Count];
            var isList = new bool[inputs.Count];
            var types = new DataType[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                (fields[i], isList[i], types[i]) = ColumnOf(source, reader.Schema, inputs[i].Name);
            }

            long[] starts = new long[reader.RowGroupCount + 1];
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                starts[g + 1] = starts[g] + group.RowCount;
            }

            var dataset = new ParquetDataset(source, identity, file, reader, fields, [.. inputs.Select(i => i.Name)], starts, maxRowGroupValues);
            // A list's length (the record's size) is read from the first row group; every later one is checked against it.
            var first = starts[^1] > 0 ? await dataset.GroupAsync(0, types, cancellation).ConfigureAwait(false) : null;
            dataset.Columns = [.. inputs.Select((input, i) => new DatasetColumn(input.Name, types[i], RecordShape(input, isList[i], first?[i].ValuesPerRecord ?? 0)))];
            return dataset;
        }
        catch (Exception e)
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            if (e is BatchException or OperationCanceledException or OutOfMemoryException) throw;

            // The footer is decoded lazily: a broken schema surfaces here as whatever Parquet.Net throws.
            throw new BatchException($"cannot read '{source}' as Parquet: {e.Message}");
        }
    }

    private static (DataField Field, bool IsList, DataType Type) ColumnOf(string path, ParquetSchema schema, string name)
    {
        var field = schema.Fields.FirstOrDefault(f => f.Name == name)
            ?? throw new BatchException($"'{path}' has no column '{name}' for the model's input '{name}' (its columns: {string.Join(", ", schema.Fields.Select(f => f.Name))})");
        var (data, isList) = field switch
        {
            DataField { MaxRepetitionLevel: 0 } d => (d, false),
            ListField { Item: DataField { MaxRepetitionLevel: 1 } d } => (d, true),
            _ => throw new BatchException($"column '{name}' of '{path}' is a {field.SchemaType}: batch reads columns of numbers and fixed-size lists of numbers"),
        };
        var type = ParquetTypes.FromClr(data.ClrType)
            ?? throw new BatchException($"column '{name}' of '{path}' holds {data.ClrType.Name} values: batch reads numbers and booleans");
        return (data, isList, type);
    }

    /// <summary>The model's shape for a record of <paramref name="values"/> values (a list is flat; the model's input gives the shape).</summary>
    private static int[] RecordShape(ValueInfo input, bool isList, int values)
    {
        var dims = input.Shape?.Skip(1).ToArray();
        if (dims is null) return isList ? [values] : [];
        if (dims.All(d => d.IsKnown) && dims.Aggregate(1L, (n, d) => n * d.Value!.Value) == values) return [.. dims.Select(d => (int)d.Value!.Value)];
        if (dims.Length == 1 && isList && !dims[0].IsKnown) return [values];
        throw new BatchException($"column '{input.Name}' holds {values} value(s) per record, which do not fill the model's input {input.Name}{input.FormatShape()}");
    }

    public async ValueTask<DatasetSlice> ReadAsync(long first, int count, CancellationToken cancellation)
    {
        var tensors = Columns.Select(c => Tensor.Allocate(c.DataType, [count, .. c.RecordShape])).ToArray();
        var types = Columns.Select(c => c.DataType).ToArray();
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            for (int g = 0; g < _groupStarts.Length - 1 && _groupStarts[g] < first + count; g++)
            {
                long from = Math.Max(first, _groupStarts[g]), to = Math.Min(first + count, _groupStarts[g + 1]);
                if (from >= to) continue;
                var chunks = await GroupAsync(g, types, cancellation).ConfigureAwait(false);
                for (int c = 0; c < tensors.Length; c++)
                {
                    int recordBytes = (int)Columns[c].RecordBytes;
                    if (chunks[c].ValuesPerRecord * DataTypes.SizeOf(types[c]) != recordBytes)
                    {
                        throw new BatchException($"column '{Columns[c].Name}' changes its list length in row group {g}: batch needs fixed-size lists");
                    }

                    chunks[c].Bytes.Slice((int)((from - _groupStarts[g]) * recordBytes), (int)((to - from) * recordBytes))
                        .CopyTo(tensors[c].Bytes[(int)((from - first) * recordBytes)..]);
                }
            }
        }
        finally
        {
            _lock.Release();
        }

        return new DatasetSlice(Columns.Select((c, i) => (c.Name, tensors[i])).ToDictionary(x => x.Name, x => x.Item2, StringComparer.Ordinal));
    }

    /// <summary>Row group <paramref name="g"/>'s columns, decoded (kept until another group is read).</summary>
    private async Task<ParquetColumnChunk[]> GroupAsync(int g, DataType[] types, CancellationToken cancellation)
    {
        if (_cached is { } hit && hit.Group == g) return hit.Chunks;
        _cached = null; // let the previous group go before decoding the next
        try
        {
            using var group = _reader.OpenRowGroupReader(g);
            var chunks = new ParquetColumnChunk[_fields.Length];
            for (int c = 0; c < chunks.Length; c++)
            {
                chunks[c] = await ParquetColumnChunk.ReadAsync(_file, group, g, _fields[c], types[c], _names[c], _maxRowGroupValues, cancellation).ConfigureAwait(false);
            }

            _cached = (g, chunks);
            return chunks;
        }
        catch (Exception e) when (e is not (BatchException or OperationCanceledException or OutOfMemoryException))
        {
            throw new BatchException($"cannot read row group {g} of '{Source}': {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }
}
