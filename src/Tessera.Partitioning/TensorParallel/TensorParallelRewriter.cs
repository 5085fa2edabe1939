using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// Splits a model for tensor parallelism (model sharding) over <c>degree</c> ranks. MatMul/Gemm layers whose weight
/// is a constant 2-D tensor are split Megatron-style where the graph allows it: a column-split layer (or Q/K/V split
/// by heads) feeds per-element or per-head operators and then a row-split layer, with one AllReduce per block and
/// no collective in between. A layer that starts no such block is split alone (columns + AllGather, or rows +
/// AllReduce); one with no dimension divisible by the degree is replicated, as is everything else. Each shard is a
/// standalone ONNX model holding only its own slice of each split weight; run them together with
/// <see cref="TensorParallelGroup"/> or any set of sessions wired by <see cref="Kernels.Collective.ICollectiveCommunicator"/>.
/// </summary>
public static class TensorParallelRewriter
{
    /// <summary>Rewrites <paramref name="model"/> (left unchanged) into <paramref name="degree"/> shards.</summary>
    /// <exception cref="ArgumentException">The degree is below 1 or the graph is not well formed.</exception>
    public static TensorParallelModel Rewrite(OnnxModel model, int degree) => Rewrite(model, degree, null);

    /// <summary>
    /// As <see cref="Rewrite(OnnxModel, int)"/>, inferring shapes for <paramref name="inputShapes"/> (input name →
    /// dimensions) instead of probe values for symbolic dimensions. The shards still accept any input shape the
    /// model accepts: only ranks and the model's constant dimensions shape the rewrite.
    /// </summary>
    public static TensorParallelModel Rewrite(OnnxModel model, int degree, IReadOnlyDictionary<string, int[]>? inputShapes)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (degree < 1)
        {
            throw new ArgumentException($"the tensor-parallel degree must be at least 1, not {degree}", nameof(degree));
        }

        var index = new GraphIndex(model, inputShapes);
        var plan = degree == 1 ? new SplitPlan() : SplitPlanner.Plan(index, degree);
        if (degree == 1)
        {
            plan.Replicated.AddRange(LinearLayerFinder.Find(index).Values.Select(l => new ReplicatedLayer(l.Name, "degree 1")));
        }

        var shards = Enumerable.Range(0, degree).Select(rank => ShardBuilder.Build(index, plan, rank, degree)).ToArray();
        return new TensorParallelModel(degree, shards, plan.Splits, plan.Blocks, plan.Replicated, plan.Collectives, model.Graph.ParameterBytes);
    }
}
