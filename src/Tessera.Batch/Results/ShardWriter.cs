using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Results;

/// <summary>
/// One shard's result being written: batches of its records appended to one .npy per output in a temporary folder,
/// which <see cref="Commit"/> flushes and renames into place. Outputs keep their element type and record shape from
/// the first batch on.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly string _temporary;
    private readonly string _final;
    private readonly int _records;
    private readonly Dictionary<string, (FileStream Stream, DataType Type, int[] Record, long Rows)> _files = new(StringComparer.Ordinal);

    internal ShardWriter(string temporary, string final, int records)
    {
        _temporary = temporary;
        _final = final;
        _records = records;
    }

    /// <summary>Appends a batch's outputs (by name; axis 0 = the batch's records, in order).</summary>
    public void Append(IReadOnlyDictionary<string, Tensor> outputs)
    {
        foreach (var (name, tensor) in outputs)
        {
            if (tensor.DataType == DataType.String) throw new BatchException($"output '{name}' holds strings, which .npy output does not support");
            if (tensor.Rank == 0) throw new BatchException($"output '{name}' is one value, not one per record: batch needs every output to have the records on axis 0");
            int[] record = tensor.Shape[1..];
            if (!_files.TryGetValue(name, out var file))
            {
                var stream = new FileStream(Path.Combine(_temporary, TensorFileName.Safe(name) + ".npy"), FileMode.CreateNew, FileAccess.Write, FileShare.None);
                NpyFormat.WriteHeader(stream, tensor.DataType, [_records, .. record]);
                file = (stream, tensor.DataType, record, 0);
            }
            else if (file.Type != tensor.DataType || !file.Record.AsSpan().SequenceEqual(record))
            {
                throw new BatchException($"output '{name}' changes from {DataTypes.Name(file.Type)}{ShapeMath.Format(file.Record)} to {DataTypes.Name(tensor.DataType)}{ShapeMath.Format(record)} per record between batches: batch needs one shape per record");
            }

            file.Stream.Write(tensor.Bytes);
            _files[name] = file with { Rows = file.Rows + tensor.Shape[0] };
        }
    }

    /// <summary>Flushes every output to disk and moves the folder into place: the shard is then whole on disk.</summary>
    public void Commit()
    {
        foreach (var (name, file) in _files)
        {
            if (file.Rows != _records) throw new InvalidOperationException($"shard output '{name}' has {file.Rows} of {_records} records");
            file.Stream.Flush(flushToDisk: true);
            file.Stream.Dispose();
        }

        _files.Clear();
        if (Directory.Exists(_final)) Directory.Delete(_final, recursive: true);
        Directory.Move(_temporary, _final);
    }

    /// <summary>Drops what was written (the shard runs again).</summary>
    public void Dispose()
    {
        foreach (var file in _files.Values) file.Stream.Dispose();
        _files.Clear();
        if (Directory.Exists(_temporary)) Directory.Delete(_temporary, recursive: true);
    }
}
