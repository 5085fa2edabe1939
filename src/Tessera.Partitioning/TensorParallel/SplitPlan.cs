using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>Every decision of a rewrite, the same for all ranks: which layers split how, and which nodes change.</summary>
internal sealed class SplitPlan
{
    public Dictionary<OnnxNode, LayerAssignment> Assignments { get; } = new(ReferenceEqualityComparer.Instance);

    public List<Region> Regions { get; } = [];

    public List<TensorParallelBlock> Blocks { get; } = [];

    public List<TensorParallelSplit> Splits { get; } = [];

    public List<ReplicatedLayer> Replicated { get; } = [];

    public List<TensorParallelCollective> Collectives { get; } = [];
}
