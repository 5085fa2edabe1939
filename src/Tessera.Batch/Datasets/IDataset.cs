namespace Tessera.Batch.Datasets;

/// <summary>
/// Records to run a model over, one tensor per model input, read a range at a time so that a dataset larger than
/// memory streams through. Safe for concurrent reads.
/// </summary>
public interface IDataset : IAsyncDisposable
{
    /// <summary>Where the records come from, for messages.</summary>
    string Source { get; }

    long Records { get; }

    /// <summary>The inputs, by the model's input names, each with the shape of one record.</summary>
    IReadOnlyList<DatasetColumn> Columns { get; }

    /// <summary>What a resumed job checks the dataset against: its files' names, sizes and times, and its columns.</summary>
    string Identity { get; }

    /// <summary>Records [<paramref name="first"/>, first + <paramref name="count"/>) as one tensor per input, axis 0 = records.</summary>
    ValueTask<DatasetSlice> ReadAsync(long first, int count, CancellationToken cancellation);

    /// <summary>
    /// The same records, whose bytes may be read only when they are needed: by a sender that writes them straight
    /// into shared memory (<see cref="Tessera.Cluster.Transport.DeferredStorage"/>), or into the tensors' own storage
    /// by anything else. A dataset that cannot defer reads them now.
    /// </summary>
    ValueTask<DatasetSlice> ReadDeferredAsync(long first, int count, CancellationToken cancellation) => ReadAsync(first, count, cancellation);
}
