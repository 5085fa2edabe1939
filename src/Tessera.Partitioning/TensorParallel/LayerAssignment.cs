namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// What the shards do with one layer: split kind, column segments (see <see cref="TensorSlicing.Block"/>), whether a
/// lone column split gathers its output and a lone row split slices its input, and its block number.
/// </summary>
internal sealed record LayerAssignment(LinearLayer Layer, TensorParallelSplitKind Kind, int[] Segments, bool Gather, bool SliceInput, int Block)
{
    public bool IsColumn => Kind is TensorParallelSplitKind.Column or TensorParallelSplitKind.Heads;
}
