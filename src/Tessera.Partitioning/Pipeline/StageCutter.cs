using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// Chooses where to cut the step order into stages, one per slot, by dynamic programming over prefix sums: each
/// stage's time is its compute on its slot's speed plus receiving the values crossing the cut before it (so cuts
/// with few bytes are preferred), and each must fit its nodes' memory (parameters plus peak live activations).
/// The latency objective minimises the sum of stage times; throughput minimises the slowest stage.
/// O(stages x steps²).
/// </summary>
internal sealed class StageCutter
{
    private readonly ModelCost _cost;
    private readonly double[] _plain;
    private readonly double[] _split;
    private readonly long[] _params;
    private readonly long[] _splitParams;
    private readonly double[] _collectiveBytes;
    private readonly int[] _collectives;

    // Sparse table of live bytes: _peak[level][i] is the maximum over steps i .. i + 2^level - 1.
    private readonly List<long[]> _peak = [];

    public StageCutter(ModelCost cost, CalibrationProfile calibration)
    {
        _cost = cost;
        int n = cost.Nodes.Count;
        _plain = new double[n + 1];
        _split = new double[n + 1];
        _params = new long[n + 1];
        _splitParams = new long[n + 1];
        _collectiveBytes = new double[n + 1];
        _collectives = new int[n + 1];
        for (int t = 0; t < n; t++)
        {
            var node = cost.Nodes[t];
            bool splittable = node.SplittableWeightBytes > 0;
            double seconds = calibration.Seconds(node);
            _plain[t + 1] = _plain[t] + (splittable ? 0 : seconds);
            _split[t + 1] = _split[t] + (splittable ? seconds : 0);
            _params[t + 1] = _params[t] + node.ParameterBytes;
            _splitParams[t + 1] = _splitParams[t] + node.SplittableWeightBytes;
            _collectiveBytes[t + 1] = _collectiveBytes[t] + (splittable ? node.OutputBytes : 0);
            _collectives[t + 1] = _collectives[t] + (splittable ? 1 : 0);
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

    /// <summary>Ring all-reduce after every split product (an upper bound: paired splits need half as many).</summary>
    public double CollectiveSeconds(int first, int last, int degree, ClusterLink link, double share)
    {
        if (degree <= 1) return 0;
        int count = _collectives[last + 1] - _collectives[first];
        double bytes = (_collectiveBytes[last + 1] - _collectiveBytes[first]) * share;
        return count * 2.0 * (degree - 1) * link.LatencySeconds + 2.0 * (degree - 1) / degree * bytes / link.BandwidthBytesPerSecond;
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
    public int[] LeastOverflow(IReadOnlyList<Slot> slots, int degree) =>
        Solve(slots, (slot, first, last) => slot.WorstFit(Parameters(first, last, degree), Peak(first, last)).Ratio, sum: false)!;

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
