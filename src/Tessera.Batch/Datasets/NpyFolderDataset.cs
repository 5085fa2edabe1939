using System.Globalization;
using Tessera.Onnx.Graph;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Datasets;

/// <summary>
/// A folder holding one .npy file per model input, named by the input (characters outside [A-Za-z0-9._-] as '_'),
/// all with the same length on axis 0, the records. Each file is read a batch at a time (<see cref="NpyColumnFile"/>).
/// </summary>
internal sealed class NpyFolderDataset : IDataset
{
    private readonly NpyColumnFile[] _files;

    private NpyFolderDataset(string folder, NpyColumnFile[] files, IReadOnlyList<string> names)
    {
        Source = folder;
        _files = files;
        Columns = [.. files.Select((f, i) => new DatasetColumn(names[i], f.Header.DataType, f.RecordShape))];
        Records = files[0].Records;
        Identity = string.Join("; ", files.Select(f => string.Create(CultureInfo.InvariantCulture, $"{System.IO.Path.GetFileName(f.Path)} {f.Length} bytes {File.GetLastWriteTimeUtc(f.Path):O}")));
    }

    public string Source { get; }

    public long Records { get; }

    public IReadOnlyList<DatasetColumn> Columns { get; }

    public string Identity { get; }

    /// <summary>Opens the files of <paramref name="inputs"/> in <paramref name="folder"/>; their record counts must agree.</summary>
    public static NpyFolderDataset Open(string folder, IReadOnlyList<ValueInfo> inputs)
    {
        var opened = new List<NpyColumnFile>();
        try
        {
            foreach (var input in inputs)
            {
                string path = Path.Combine(folder, TensorFileName.Safe(input.Name) + ".npy");
                if (!File.Exists(path))
                {
                    string held = string.Join(", ", Directory.EnumerateFiles(folder, "*.npy").Select(Path.GetFileName).Order(StringComparer.Ordinal));
                    throw new BatchException($"'{folder}' has no {Path.GetFileName(path)} for the model's input '{input.Name}' (it holds: {(held.Length > 0 ? held : "no .npy file")})");
                }

                opened.Add(NpyColumnFile.Open(path));
            }

            var first = opened[0];
            var other = opened.FirstOrDefault(f => f.Records != first.Records);
            if (other is not null)
            {
                throw new BatchException($"the inputs hold different numbers of records: {first.Path} {first.Records}, {other.Path} {other.Records} (every input needs one row per record)");
            }

            return new NpyFolderDataset(folder, [.. opened], [.. inputs.Select(i => i.Name)]);
        }
        catch
        {
            foreach (var f in opened) f.Dispose();
            throw;
        }
    }

    public ValueTask<DatasetSlice> ReadAsync(long first, int count, CancellationToken cancellation) => Read(first, count, deferred: false);

    public ValueTask<DatasetSlice> ReadDeferredAsync(long first, int count, CancellationToken cancellation) => Read(first, count, deferred: true);

    private ValueTask<DatasetSlice> Read(long first, int count, bool deferred)
    {
        var owned = new List<IDisposable>();
        var tensors = new Dictionary<string, Tessera.Tensors.Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < _files.Length; i++)
        {
            tensors[Columns[i].Name] = _files[i].Read(first, count, owned, deferred);
        }

        return ValueTask.FromResult(new DatasetSlice(tensors, owned));
    }

    public ValueTask DisposeAsync()
    {
        foreach (var f in _files) f.Dispose();
        return ValueTask.CompletedTask;
    }
}
