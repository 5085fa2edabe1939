using System.Globalization;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Results;

/// <summary>
/// The shards' results on disk: a folder per shard holding one .npy per output (axis 0 = the shard's records),
/// written under a temporary name and renamed into place once complete and flushed, so a shard's folder either holds
/// its whole result or does not exist.
/// </summary>
public sealed class ShardStore
{
    private const string Temporary = ".tmp";

    public ShardStore(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
    }

    public string Folder { get; }

    public bool Has(int shard) => Directory.Exists(PathOf(shard));

    /// <summary>Removes what a killed run left half-written.</summary>
    public void RemoveTemporary()
    {
        foreach (string dir in Directory.EnumerateDirectories(Folder, "*" + Temporary)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Removes a shard's result (one written but never recorded in the journal is written again).</summary>
    public void Remove(int shard)
    {
        if (Has(shard)) Directory.Delete(PathOf(shard), recursive: true);
    }

    public ShardWriter Begin(int shard, int records)
    {
        string temporary = PathOf(shard) + Temporary;
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        return new ShardWriter(temporary, PathOf(shard), records);
    }

    /// <summary>Output <paramref name="name"/> of a written shard.</summary>
    public Tensor Read(int shard, string name) => NpyFormat.ReadFile(Path.Combine(PathOf(shard), TensorFileName.Safe(name) + ".npy"));

    public void Delete()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }

    private string PathOf(int shard) => Path.Combine(Folder, shard.ToString("D6", CultureInfo.InvariantCulture));
}
