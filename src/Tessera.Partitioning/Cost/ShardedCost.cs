using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.TensorParallel;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// The cost model of a model split for tensor parallelism, for cutting it into pipeline stages (hybrid plans).
/// The rewrite runs on the original graph (its standard MatMul/Gemm layers), then each rank's shard is analysed
/// as a session would optimise it, so stages are cut from each rank's optimised graph exactly as pipeline plans
/// cut the single-node one. The ranks' optimised graphs must have the same steps (only constant values differ),
/// so one set of cut positions serves every rank and every rank's stage k holds the same collectives. A cut is
/// allowed only where every value crossing it is <b>replicated</b> (the same bits on every rank): the next stage's
/// ranks all receive rank 0's values. Rank-local values are those computed from a constant or attribute that
/// differs between ranks (a weight slice, a Slice offset) or from another rank-local value; collectives' outputs
/// are replicated by construction (every rank gathers and sums in rank order). So cuts fall between Megatron
/// blocks, never between a row layer's partial product and its AllReduce or inside a block.
/// </summary>
public sealed class ShardedCost
{
    private readonly bool[] _replicatedCut;

    private ShardedCost(TensorParallelModel model, IReadOnlyList<ModelCost> ranks, bool[] replicatedCut)
    {
        Model = model;
        Ranks = ranks;
        _replicatedCut = replicatedCut;
        CollectiveSteps = ranks[0].Nodes.Count(n => IsCollective(n.OpType, ranks[0].Steps[n.Index].Domain));
    }

    public int Degree => Model.Degree;

    /// <summary>The rewrite whose shards were analysed.</summary>
    public TensorParallelModel Model { get; }

    /// <summary>The cost model of each rank's shard (index = rank); they have the same steps.</summary>
    public IReadOnlyList<ModelCost> Ranks { get; }

    /// <summary>Collectives each rank runs per inference (steps of the optimised shard).</summary>
    public int CollectiveSteps { get; }

    /// <summary>Interior cut positions (1..steps-1) where only replicated values cross.</summary>
    public int ReplicatedCutCount => _replicatedCut.Skip(1).SkipLast(1).Count(c => c);

    /// <summary>Whether stages may be cut before step <paramref name="position"/> (0 and the step count always may).</summary>
    public bool IsReplicatedCut(int position) => _replicatedCut[position];

    /// <exception cref="PartitionException">The rewrite fails, or the ranks' optimised graphs differ in structure.</exception>
    public static ShardedCost Analyze(OnnxModel model, int degree, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        TensorParallelModel sharded;
        try
        {
            sharded = TensorParallelRewriter.Rewrite(model, degree);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // One line for the candidate's reason: planning goes on with the other candidates.
            throw new PartitionException($"the tensor-parallel rewrite failed: {e.Message}", e);
        }

        var ranks = sharded.Shards.Select(s => ModelCost.Analyze(s, inputShapes)).ToList();
        var local = RankLocalValues(ranks);
        var first = ranks[0];
        var cuts = new bool[first.Nodes.Count + 1];
        for (int k = 0; k < cuts.Length; k++) cuts[k] = k == 0 || k == first.Nodes.Count || !first.CutValues(k).Any(local.Contains);
        return new ShardedCost(sharded, ranks, cuts);
    }

    internal static bool IsCollective(string opType, string domain) =>
        OnnxNode.NormalizeDomain(domain) == TesseraDomain.Name && opType is "AllReduce" or "AllGather";

    /// <summary>Values of rank 0's steps that may differ between ranks; checks that every rank has the same steps.</summary>
    private static HashSet<string> RankLocalValues(IReadOnlyList<ModelCost> ranks)
    {
        var first = ranks[0];
        var local = new HashSet<string>(StringComparer.Ordinal);
        for (int t = 0; t < first.Nodes.Count; t++)
        {
            var node = first.Steps[t];
            bool differs = false;
            for (int r = 1; r < ranks.Count; r++)
            {
                if (ranks[r].Nodes.Count != first.Nodes.Count || !SameShape(node, ranks[r].Steps[t]))
                {
                    throw new PartitionException($"the tensor-parallel shards of ranks 0 and {r} optimise to different graphs (at step {t}, {node.OpType} '{node.DisplayName}'), so they cannot be cut into the same stages");
                }

                differs |= !ConstantInvariant.SameAttributes(node, ranks[r].Steps[t]) || !SameSources(first, ranks[r], t);
            }

            if (IsCollective(node.OpType, node.Domain)) continue;
            if (differs || first.ReadsOf(t).Any(local.Contains)) local.UnionWith(node.Outputs.Where(o => o.Length > 0));
        }

        return local;
    }

    private static bool SameShape(OnnxNode a, OnnxNode b) =>
        a.OpType == b.OpType && OnnxNode.NormalizeDomain(a.Domain) == OnnxNode.NormalizeDomain(b.Domain)
        && a.Inputs.SequenceEqual(b.Inputs, StringComparer.Ordinal) && a.Outputs.SequenceEqual(b.Outputs, StringComparer.Ordinal);

    /// <summary>Whether step <paramref name="t"/> reads the same constants (initializers and folded constant nodes) on both ranks.</summary>
    private static bool SameSources(ModelCost a, ModelCost b, int t)
    {
        var sa = a.SourcesOf(t, t);
        var sb = b.SourcesOf(t, t);
        if (!sa.SetEquals(sb)) return false;
        foreach (int s in sa)
        {
            if (a.InitializerOf(s) is { } name)
            {
                if (b.InitializerOf(s) != name
                    || !b.OptimizedModel.Graph.Initializers.TryGetValue(name, out var other)
                    || !ConstantInvariant.SameTensor(a.OptimizedModel.Graph.Initializers[name], other))
                {
                    return false;
                }
            }
            else if (b.ConstantNodeOf(s) is not { } node || !SameShape(a.ConstantNodeOf(s)!, node) || !ConstantInvariant.SameAttributes(a.ConstantNodeOf(s)!, node))
            {
                return false;
            }
        }

        return true;
    }
}
