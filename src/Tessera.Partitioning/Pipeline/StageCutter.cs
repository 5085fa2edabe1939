using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// Chooses where to cut the step order into stages, one per slot, by dynamic programming over prefix sums: each
/// stage's time is its compute on its slot's speed plus receiving the values crossing the cut before it (so cuts
/// with few bytes are preferred), and each must fit its nodes' memory (parameters plus peak live activations).
/// The latency objective minimises the sum of stage times; throughput minimises the slowest stage.
/// O(stages x steps²). Over a tensor-parallel shard, stages start only at cuts that pass replicated values.
/// </summary>
internal sealed class StageCutter
{
    private readonly ModelCost _cost;
    private readonly double[] _plain;
    private readonly double[] _split;
    private readonly long[] _params;
    private readonly long[] _splitParams;
    private readonly double[] _reduceBytes;
    private readonly int[] _reduces;
    private readonly double[] _gatherBytes;
    private readonly int[] _gathers;
    private readonly ShardedCost? _sharded;

    // Sparse table of live bytes: _peak[level][i] is the maximum over steps i .. i + 2^level - 1.
    private readonly List<long[]> _peak = [];

    /// <param name="sharded">
    /// When set, <paramref name="cost"/> is rank 0's shard of this tensor-parallel model: its work and weights are
    /// already per rank (nothing is divided again), its collectives are its AllReduce/AllGather steps, and stages
    /// may only start at cuts where every crossing value is replicated.
    /// </param>
    public StageCutter(ModelCost cost, CalibrationProfile calibration, ShardedCost? sharded = null)
    {
        _cost = cost;
        _sharded = sharded;
        int n = cost.Nodes.Count;
        _plain = new double[n + 1];
        _split = new double[n + 1];
        _params = new long[n + 1];
        _splitParams = new long[n + 1];
        _reduceBytes = new double[n + 1];
        _reduces = new int[n + 1];
        _gatherBytes = new double[n + 1];
        _gathers = new int[n + 1];
        for (int t = 0; t < n; t++)
        {
            var node = cost.Nodes[t];
            bool splittable = sharded is null && node.SplittableWeightBytes > 0;
            bool reduce = sharded is null ? splittable : node.OpType == "AllReduce" && ShardedCost.IsCollective(node.OpType, cost.Steps[t].Domain);
            bool gather = sharded is not null && node.OpType == "AllGather" && ShardedCost.IsCollective(node.OpType, cost.Steps[t].Domain);
            double seconds = calibration.Seconds(node);
            _plain[t + 1] = _plain[t] + (splittable ? 0 : seconds);
            _split[t + 1] = _split[t] + (splittable ? seconds : 0);
            _params[t + 1] = _params[t] + node.ParameterBytes;
            _splitParams[t + 1] = _splitParams[t] + (splittable ? node.SplittableWeightBytes : 0);
            _reduceBytes[t + 1] = _reduceBytes[t] + (reduce ? node.OutputBytes : 0);
            _reduces[t + 1] = _reduces[t] + (reduce ? 1 : 0);
            _gatherBytes[t + 1] = _gatherBytes[t] + (gather ? node.OutputBytes : 0);
            _gathers[t + 1] = _gathers[t] + (gather ? 1 : 0);
        }

        _peak.Add(Enumerable.Range(0, n).Select(cost.LiveBytes).ToArray());
        for (int width = 2; width <= n; width *= 2)
        {
            var below = _peak[^1];
            var level = new long[n - width + 1];
            for (int i = 0; i < level.Length; i++) level[i] = Math.Max(below[i], below[i + width / 2]);
            _peak.Add(level);
        }
    }

    public int StepCount => _cost.Nodes.Count;

    /// <summary>Compute seconds of steps first..last at speed 1 with tensor-parallel degree T (split products divided by T).</summary>
    public double Work(int first, int last, int degree) =>
        _plain[last + 1] - _plain[first] + (_split[last + 1] - _split[first]) / degree;

    /// <summary>Parameter bytes per rank (split weights divided by T); prefix sums of first use, so shared constants count once.</summary>
    public long Parameters(int first, int last, int degree)
    {
        long split = _splitParams[last + 1] - _splitParams[first];
        return _params[last + 1] - _params[first] - split + split / degree;
    }

    /// <summary>
    /// Ring collectives over the link: an all-reduce moves 2(T-1)/T of its bytes in 2(T-1) steps, an all-gather
    /// (T-1)/T in T-1. Unsharded, every split product counts as an all-reduce (an upper bound: paired splits need
    /// half as many); sharded, the shard's own AllReduce/AllGather steps count.
    /// </summary>
    public double CollectiveSeconds(int first, int last, int degree, ClusterLink link, double share)
    {
        if (degree <= 1) return 0;
        int steps = 2 * (_reduces[last + 1] - _reduces[first]) + _gathers[last + 1] - _gathers[first];
        double bytes = (2 * (_reduceBytes[last + 1] - _reduceBytes[first]) + _gatherBytes[last + 1] - _gatherBytes[first]) * share;
        return steps * (degree - 1) * link.LatencySeconds + (degree - 1.0) / degree * bytes / link.BandwidthBytesPerSecond;
    }

    /// <summary>Seconds of one stage on a slot: compute, collectives, and receiving its inputs (the largest replica share).</summary>
    public double StageSeconds(Slot slot, int first, int last, int degree, ClusterLink link) =>
        Work(first, last, degree) / slot.EffectiveSpeed
        + CollectiveSeconds(first, last, degree, link, slot.MaxShare)
        + link.TransferSeconds(_cost.CutBytes(first) * slot.MaxShare);

    /// <summary>Stage boundaries (length slots + 1, from 0 to the step count) of the best feasible cut, or null when none fits.</summary>
    public int[]? Cut(IReadOnlyList<Slot> slots, int degree, ClusterLink link, PlanObjective objective) =>
        Solve(slots, (slot, first, last) =>
        {
            long parameters = Parameters(first, last, degree);
            return slot.WorstFit(parameters, Peak(first, last)).Ratio > 1 ? double.PositiveInfinity : StageSeconds(slot, first, last, degree, link);
        }, objective == PlanObjective.Latency);

    /// <summary>The cut whose worst need-to-budget ratio is smallest: explains why nothing fits, and by how much.</summary>
    public int[]? LeastOverflow(IReadOnlyList<Slot> slots, int degree) =>
        Solve(slots, (slot, first, last) => slot.WorstFit(Parameters(first, last, degree), Peak(first, last)).Ratio, sum: false);

    public long Peak(int first, int last)
    {
        int level = System.Numerics.BitOperations.Log2((uint)(last - first + 1));
        var table = _peak[level];
        return Math.Max(table[first], table[last - (1 << level) + 1]);
    }

    private int[]? Solve(IReadOnlyList<Slot> slots, Func<Slot, int, int, double> stageCost, bool sum)
    {
        int n = StepCount;
        int k = slots.Count;
        if (k > n) return null;
        var best = new double[k, n];
        var parent = new int[k, n];
        for (int s = 0; s < k; s++)
        {
            // Stage s ends at step j; earlier stages need one step each, later ones too.
            for (int j = s; j <= n - (k - s); j++)
            {
                best[s, j] = double.PositiveInfinity;
                int lowest = s == 0 ? 0 : s;
                int highest = s == 0 ? 0 : j;
                for (int i = highest; i >= lowest; i--)
                {
                    if (s > 0 && _sharded is not null && !_sharded.IsReplicatedCut(i)) continue;
                    double before = s == 0 ? 0 : best[s - 1, i - 1];
                    if (double.IsPositiveInfinity(before)) continue;
                    double stage = stageCost(slots[s], i, j);
                    double total = sum ? before + stage : Math.Max(before, stage);
                    if (total < best[s, j])
                    {
                        best[s, j] = total;
                        parent[s, j] = i;
                    }
                }
            }
        }

        if (double.IsPositiveInfinity(best[k - 1, n - 1])) return null;
        var bounds = new int[k + 1];
        bounds[k] = n;
        for (int s = k - 1, j = n - 1; s >= 0; s--)
        {
            bounds[s] = parent[s, j];
            j = bounds[s] - 1;
        }

        return bounds;
    }
}
