using Tessera.Tensors;

namespace Tessera.Batch.Results;

/// <summary>
/// The final output a job assembles from its shards, in record order: nothing of it is visible under its final name
/// until <see cref="CompleteAsync"/> has written all of it and the manifest.
/// </summary>
internal interface IJobOutput : IAsyncDisposable
{
    /// <summary>The next shard's outputs, by name (axis 0 = its records).</summary>
    Task AppendAsync(IReadOnlyDictionary<string, Tensor> outputs, CancellationToken cancellation);

    /// <summary>The outputs as written (type, whole shape, file), for the manifest.</summary>
    IReadOnlyDictionary<string, OutputInfo> Outputs { get; }

    /// <summary>Flushes everything, puts it under its final name with <paramref name="manifest"/>: the job is then complete.</summary>
    Task CompleteAsync(BatchManifest manifest, CancellationToken cancellation);
}
