using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Tessera.Batch.Datasets;
using Tessera.Tensors;

namespace Tessera.Batch.Results;

/// <summary>
/// A Parquet output: a column per model output (one value per record, or a fixed-size list holding the record's
/// tensor flat, its shape in the `tessera.record_shapes` metadata), a row group per shard, and the manifest in the
/// `tessera.manifest` metadata. Written to a temporary file renamed over the output once complete.
/// </summary>
internal sealed class ParquetFileOutput(string path, string temporary, long records) : IJobOutput
{
    public const string ManifestKey = "tessera.manifest";
    public const string ShapesKey = "tessera.record_shapes";

    private readonly Dictionary<string, OutputInfo> _outputs = new(StringComparer.Ordinal);
    private FileStream? _stream;
    private ParquetWriter? _writer;
    private (string Name, DataField Field, bool IsList, DataType Type, int[] Record)[] _columns = [];

    public IReadOnlyDictionary<string, OutputInfo> Outputs => _outputs;

    public async Task AppendAsync(IReadOnlyDictionary<string, Tensor> outputs, CancellationToken cancellation)
    {
        if (_writer is null)
        {
            _columns = [.. outputs.Select(kv => Column(kv.Key, kv.Value))];
            var schema = new ParquetSchema(_columns.Select(c => c.IsList ? (Field)new ListField(c.Name, c.Field) : c.Field));
            _stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
            _writer = await ParquetWriter.CreateAsync(schema, _stream, cancellationToken: cancellation).ConfigureAwait(false);
            foreach (var c in _columns) _outputs[c.Name] = new OutputInfo(DataTypes.Name(c.Type), [(int)records, .. c.Record], null);
        }

        using var group = _writer.CreateRowGroup();
        foreach (var c in _columns)
        {
            var tensor = outputs[c.Name];
            if (tensor.DataType != c.Type || !tensor.Shape.AsSpan(1).SequenceEqual(c.Record))
            {
                throw new BatchException($"output '{c.Name}' is {DataTypes.Name(c.Type)}{ShapeMath.Format(c.Record)} per record in one shard and {DataTypes.Name(tensor.DataType)}{ShapeMath.Format(tensor.Shape[1..])} in another: batch needs one shape per record");
            }

            await WriteAsync(group, c.Field, c.IsList, tensor, cancellation).ConfigureAwait(false);
        }

        group.CompleteValidate();
    }

    private static (string, DataField, bool, DataType, int[]) Column(string name, Tensor tensor)
    {
        var clr = ParquetTypes.ToClr(tensor.DataType) ?? throw new BatchException($"output '{name}' holds {DataTypes.Name(tensor.DataType)}, which Parquet output does not support");
        int[] record = tensor.Shape[1..];
        if (record.Length > 0 && ShapeMath.ElementCount(record) == 0) throw new BatchException($"output '{name}' has empty records, which a Parquet list cannot hold");
        bool isList = record.Length > 0;
        return (name, new DataField(isList ? ListField.ElementName : name, clr, isNullable: false), isList, tensor.DataType, record);
    }

    private static Task WriteAsync(ParquetRowGroupWriter group, DataField field, bool isList, Tensor tensor, CancellationToken cancellation) => tensor.DataType switch
    {
        DataType.Float32 => WriteAsync<float>(group, field, isList, tensor, cancellation),
        DataType.Float64 => WriteAsync<double>(group, field, isList, tensor, cancellation),
        DataType.Int32 => WriteAsync<int>(group, field, isList, tensor, cancellation),
        DataType.Int64 => WriteAsync<long>(group, field, isList, tensor, cancellation),
        DataType.Int16 => WriteAsync<short>(group, field, isList, tensor, cancellation),
        DataType.Int8 => WriteAsync<sbyte>(group, field, isList, tensor, cancellation),
        DataType.UInt8 => WriteAsync<byte>(group, field, isList, tensor, cancellation),
        DataType.UInt16 => WriteAsync<ushort>(group, field, isList, tensor, cancellation),
        DataType.UInt32 => WriteAsync<uint>(group, field, isList, tensor, cancellation),
        DataType.UInt64 => WriteAsync<ulong>(group, field, isList, tensor, cancellation),
        DataType.Bool => WriteAsync<bool>(group, field, isList, tensor, cancellation),
        _ => throw new BatchException($"{DataTypes.Name(tensor.DataType)} cannot be written to Parquet"),
    };

    private static async Task WriteAsync<T>(ParquetRowGroupWriter group, DataField field, bool isList, Tensor tensor, CancellationToken cancellation) where T : unmanaged
    {
        T[] values = tensor.ToArray<T>();
        if (!isList)
        {
            await group.WriteAsync<T>(field, values, cancellationToken: cancellation).ConfigureAwait(false);
            return;
        }

        // Every value present (definition level at its maximum); a record's first value starts a list (repetition 0).
        int perRecord = tensor.Length / tensor.Shape[0];
        int[] definitions = new int[values.Length];
        int[] repetitions = new int[values.Length];
        Array.Fill(definitions, field.MaxDefinitionLevel);
        for (int i = 0; i < repetitions.Length; i++) repetitions[i] = i % perRecord == 0 ? 0 : 1;
        await group.WriteAllPartsAsync<T>(field, values, definitions, repetitions, cancellation).ConfigureAwait(false);
    }

    public async Task CompleteAsync(BatchManifest manifest, CancellationToken cancellation)
    {
        _writer!.CustomMetadata = new Dictionary<string, string>
        {
            [ShapesKey] = JsonSerializer.Serialize(_columns.ToDictionary(c => c.Name, c => c.Record), BatchJson.Line),
            [ManifestKey] = JsonSerializer.Serialize(manifest, BatchJson.Line),
        };
        await _writer.DisposeAsync().ConfigureAwait(false);
        _writer = null;
        _stream!.Flush(flushToDisk: true);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stream = null;
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The manifest of a finished job's Parquet output; null when the file is not one.</summary>
    public static async Task<BatchManifest?> ReadManifestAsync(string path, CancellationToken cancellation)
    {
        try
        {
            await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: cancellation).ConfigureAwait(false);
            return reader.CustomMetadata.TryGetValue(ManifestKey, out string? json) ? JsonSerializer.Deserialize<BatchManifest>(json, BatchJson.Line) : null;
        }
        catch (Exception e) when (e is not (OperationCanceledException or FileNotFoundException or UnauthorizedAccessException))
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null) await _writer.DisposeAsync().ConfigureAwait(false);
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            File.Delete(temporary);
        }
    }
}
