namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// What the shards do with one layer: split kind, column segments (see <see cref="TensorSlicing.Block"/>), whether a
/// lone column split gathers its output and a lone row split slices its input, its block number, and the key of
/// its collective (the same on every rank, unique in the model).
/// </summary>
internal sealed record LayerAssignment(LinearLayer Layer, TensorParallelSplitKind Kind, int[] Segments, bool Gather, bool SliceInput, int Block, string Key)
{
    public bool IsColumn => Kind is TensorParallelSplitKind.Column or TensorParallelSplitKind.Heads;
}
