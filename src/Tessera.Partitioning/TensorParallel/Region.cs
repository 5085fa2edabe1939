using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// A Megatron block found by <see cref="RegionGrower"/>: column-split layers whose sharded outputs flow only through
/// per-element or per-head operators into row-split layers, so no collective is needed until the row layers' sums.
/// </summary>
internal sealed class Region
{
    /// <summary>Column-split layers in graph order.</summary>
    public List<LinearLayer> Columns { get; } = [];

    /// <summary>Row-split layers that close the block, in graph order.</summary>
    public List<LinearLayer> Rows { get; } = [];

    /// <summary>Per column layer split by a Split node (fused QKV), the segment sizes; others are one segment of N.</summary>
    public Dictionary<LinearLayer, int[]> Segments { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Reshape nodes whose target shape changes per rank (heads / T), with the new shape (0 copies an input dimension).</summary>
    public Dictionary<OnnxNode, long[]> ReshapeShapes { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Split nodes along the sharded axis, with the per-rank sizes (null when the Split divides equally by itself).</summary>
    public Dictionary<OnnxNode, long[]?> SplitSizes { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Values whose shape differs on the shards (their declared value infos no longer hold).</summary>
    public HashSet<string> ShardedValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Heads of the attention (total), when a Reshape split a sharded axis into heads; 0 for an MLP block.</summary>
    public int Heads { get; set; }

    public bool IsAttention => Heads > 0;
}
