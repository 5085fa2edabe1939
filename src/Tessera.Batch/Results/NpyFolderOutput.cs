using System.Text.Json;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Results;

/// <summary>
/// A folder output: one .npy per output (axis 0 = records, in record order) and manifest.json, each written under a
/// temporary name and renamed once flushed; manifest.json comes last, so its presence says the job is complete.
/// </summary>
internal sealed class NpyFolderOutput(string folder, long records) : IJobOutput
{
    public const string ManifestFile = "manifest.json";
    private const string Partial = ".partial";

    private readonly Dictionary<string, (FileStream Stream, DataType Type, int[] Record)> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutputInfo> _outputs = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, OutputInfo> Outputs => _outputs;

    public Task AppendAsync(IReadOnlyDictionary<string, Tensor> outputs, CancellationToken cancellation)
    {
        foreach (var (name, tensor) in outputs)
        {
            int[] record = tensor.Shape[1..];
            if (!_files.TryGetValue(name, out var file))
            {
                string fileName = TensorFileName.Safe(name) + ".npy";
                var stream = new FileStream(Path.Combine(folder, fileName + Partial), FileMode.Create, FileAccess.Write, FileShare.None);
                NpyFormat.WriteHeader(stream, tensor.DataType, [checked((int)records), .. record]);
                _files[name] = file = (stream, tensor.DataType, record);
                _outputs[name] = new OutputInfo(DataTypes.Name(tensor.DataType), [(int)records, .. record], fileName);
            }
            else if (file.Type != tensor.DataType || !file.Record.AsSpan().SequenceEqual(record))
            {
                throw new BatchException($"output '{name}' is {DataTypes.Name(file.Type)}{ShapeMath.Format(file.Record)} per record in one shard and {DataTypes.Name(tensor.DataType)}{ShapeMath.Format(record)} in another: batch needs one shape per record");
            }

            file.Stream.Write(tensor.Bytes);
        }

        return Task.CompletedTask;
    }

    public Task CompleteAsync(BatchManifest manifest, CancellationToken cancellation)
    {
        foreach (var (name, file) in _files)
        {
            file.Stream.Flush(flushToDisk: true);
            file.Stream.Dispose();
            string final = Path.Combine(folder, _outputs[name].File!);
            File.Move(final + Partial, final, overwrite: true);
        }

        _files.Clear();
        string path = Path.Combine(folder, ManifestFile);
        using (var stream = new FileStream(path + Partial, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, manifest, BatchJson.Indented);
            stream.Flush(flushToDisk: true);
        }

        File.Move(path + Partial, path, overwrite: true);
        return Task.CompletedTask;
    }

    /// <summary>The manifest of a finished job in <paramref name="folder"/>; null when there is none.</summary>
    public static BatchManifest? ReadManifest(string folder)
    {
        string path = Path.Combine(folder, ManifestFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<BatchManifest>(File.ReadAllBytes(path), BatchJson.Line);
        }
        catch (JsonException e)
        {
            throw new BatchException($"'{path}' is not a batch manifest: {e.Message}");
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (name, file) in _files)
        {
            file.Stream.Dispose();
            File.Delete(Path.Combine(folder, _outputs[name].File! + Partial));
        }

        _files.Clear();
        return ValueTask.CompletedTask;
    }
}
