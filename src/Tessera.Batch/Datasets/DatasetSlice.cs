using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>
/// Tensors of a range of records, by input name. They may wrap mapped file memory that <see cref="Dispose"/> unmaps,
/// so they must not be used after it.
/// </summary>
public sealed class DatasetSlice(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyList<IDisposable>? owned = null) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

    public void Dispose()
    {
        foreach (var o in owned ?? []) o.Dispose();
    }
}
