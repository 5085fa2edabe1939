using Tessera.Batch.Results;

namespace Tessera.Batch;

/// <summary>
/// Where a job keeps what: an output folder holds the outputs, manifest.json, journal.jsonl and (until the job is
/// complete) shards/; a Parquet output's journal and shards live beside it in OUT.batch/, removed once it is complete.
/// </summary>
internal sealed record JobLayout(string Out, bool IsParquet, string WorkFolder)
{
    public string Journal => Path.Combine(WorkFolder, BatchJournal.FileName);

    public string Shards => Path.Combine(WorkFolder, "shards");

    public static JobLayout For(string output) => output.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)
        ? new JobLayout(output, true, output + ".batch")
        : new JobLayout(output, false, output);

    /// <summary>The manifest of the finished job the output holds, if it holds one.</summary>
    public async Task<BatchManifest?> FinishedAsync(CancellationToken cancellation)
    {
        if (!IsParquet) return NpyFolderOutput.ReadManifest(Out);
        if (!File.Exists(Out)) return null;
        return await ParquetFileOutput.ReadManifestAsync(Out, cancellation).ConfigureAwait(false)
            ?? throw new BatchException($"'{Out}' exists and is not the output of a batch job: choose another --out");
    }

    /// <summary>True when there is something in the way of a new job: a folder that is not empty.</summary>
    public bool IsOccupied => !IsParquet && Directory.Exists(Out) && Directory.EnumerateFileSystemEntries(Out).Any();

    public IJobOutput CreateOutput(long records) => IsParquet
        ? new ParquetFileOutput(Out, Path.Combine(WorkFolder, "output.parquet.partial"), records)
        : new NpyFolderOutput(Out, records);

    /// <summary>After the job is complete: the shards go; a folder output keeps its journal, a Parquet output's work folder goes.</summary>
    public void Clean(ShardStore store)
    {
        store.Delete();
        if (IsParquet && Directory.Exists(WorkFolder)) Directory.Delete(WorkFolder, recursive: true);
    }
}
