using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

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
    private readonly double[] _seconds;
    private readonly long[] _params;
    private readonly double[] _reduceBytes;
    private readonly int[] _reduces;
    private readonly double[] _gatherBytes;
    private readonly int[] _gathers;
    private readonly ShardedCost? _sharded;
    private readonly double _margin;

    /// <summary>Sets <see cref="TurnsMargin"/> for an A/B without rebuilding: a number above 0 and at most 1.</summary>
    public const string MarginVariable = "TESSERA_STAGE_MARGIN";

    // A stage of a cut chosen for fewest bytes (stages taking turns on a host's cores) stays within this share of the
    // cores' bound: the built-in rates put a stage's share of the time up to 5 points off the recorded one
    // (StageEstimateTests), and a stage over the bound would hold the pipeline instead of the cores. Lower margins
    // (more even stages, more slack each, more bytes) were measured slower on a quiet 2-core host (a16: GPT b8 s128,
    // 3 stages, 0.67 -> the balanced cut 730 rows/s against 832, the cores idle 9.9% against 7.4%; docs/architecture.md,
    // "A more even cut").
    private const double DefaultTurnsMargin = 0.9;

    // Read once per process: every plan in it cuts with the same margin.
    private static readonly string? s_marginText = Environment.GetEnvironmentVariable(MarginVariable);

    // Sparse table of live bytes: _peak[level][i] is the maximum over steps i .. i + 2^level - 1.
    private readonly List<long[]> _peak = [];

    /// <param name="sharded">
    /// When set, <paramref name="cost"/> is rank 0's shard of this tensor-parallel model: its work and weights are
    /// per rank, its collectives are its AllReduce/AllGather steps, and stages may only start at cuts where every
    /// crossing value is replicated.
    /// </param>
    /// <param name="margin">The <see cref="TurnsMargin"/> to cut with (tests compare margins); null: this process's.</param>
    public StageCutter(ModelCost cost, CalibrationProfile calibration, ShardedCost? sharded = null, double? margin = null)
    {
        // Read here rather than where it is used, so that a bad TESSERA_STAGE_MARGIN fails every plan, not only those
        // whose stages take turns on a host's cores.
        _margin = margin ?? TurnsMargin;
        _cost = cost;
        _sharded = sharded;
        int n = cost.Nodes.Count;
        _seconds = new double[n + 1];
        _params = new long[n + 1];
        _reduceBytes = new double[n + 1];
        _reduces = new int[n + 1];
        _gatherBytes = new double[n + 1];
        _gathers = new int[n + 1];
        for (int t = 0; t < n; t++)
        {
            var node = cost.Nodes[t];
            bool collective = ShardedCost.IsCollective(node.OpType, cost.Steps[t].Domain);
            bool reduce = collective && node.OpType == "AllReduce";
            bool gather = collective && node.OpType == "AllGather";
            _seconds[t + 1] = _seconds[t] + calibration.Seconds(node);
            _params[t + 1] = _params[t] + node.ParameterBytes;
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

    /// <summary>The margin this process cuts with: <see cref="MarginVariable"/> when set, else the default.</summary>
    public static double TurnsMargin => ParseMargin(s_marginText);

    /// <summary>A margin from its text (null or empty: the default); anything but a number in (0, 1] is refused.</summary>
    public static double ParseMargin(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return DefaultTurnsMargin;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double margin) && margin > 0 && margin <= 1)
        {
            return margin;
        }

        throw new PartitionException($"{MarginVariable} is '{UntrustedText.OneLine(text, 40)}': expected a number above 0 and at most 1 (the share of the cores' bound each stage of a pipeline taking turns on one host's cores may reach)");
    }

    /// <summary>Compute seconds of steps first..last at speed 1 (per rank over a shard).</summary>
    public double Work(int first, int last) => _seconds[last + 1] - _seconds[first];

    /// <summary>Parameter bytes (per rank over a shard); prefix sums of first use, so shared constants count once.</summary>
    public long Parameters(int first, int last) => _params[last + 1] - _params[first];

    /// <summary>
    /// Ring collectives over the link: an all-reduce moves 2(T-1)/T of its bytes in 2(T-1) steps, an all-gather
    /// (T-1)/T in T-1; the shard's own AllReduce/AllGather steps count (an unsharded model has none).
    /// </summary>
    public double CollectiveSeconds(int first, int last, int degree, ClusterLink link, double share)
    {
        if (degree <= 1) return 0;
        int steps = 2 * (_reduces[last + 1] - _reduces[first]) + _gathers[last + 1] - _gathers[first];
        double bytes = (2 * (_reduceBytes[last + 1] - _reduceBytes[first]) + _gatherBytes[last + 1] - _gatherBytes[first]) * share;
        return steps * (degree - 1) * link.LatencySeconds + (degree - 1.0) / degree * bytes / link.BandwidthBytesPerSecond;
    }

    /// <summary>
    /// Seconds of one stage on a slot: compute, collectives, and receiving its inputs (the largest replica share), through
    /// shared memory from a previous slot on the same host, else over the network.
    /// </summary>
    public double StageSeconds(Slot slot, Slot? previous, int first, int last, int degree, ClusterLink link) =>
        Work(first, last) / slot.EffectiveSpeed
        + CollectiveSeconds(first, last, degree, link, slot.MaxShare)
        + link.TransferSeconds(_cost.CutBytes(first) * slot.MaxShare, slot.SharesHostWith(previous));

    /// <summary>
    /// Stage boundaries (length slots + 1, from 0 to the step count) of the best feasible cut, or null when none fits.
    /// For throughput, stages that take turns on one host's cores (more one-thread stages than cores) run at the sum of
    /// their times over the cores once that passes the slowest stage: every cut whose stages each stay within that
    /// bound is as fast, so the one with the least sum is taken, which (compute being the same wherever the cut falls)
    /// is the one sending the fewest bytes between the stages.
    /// </summary>
    public int[]? Cut(IReadOnlyList<Slot> slots, int degree, ClusterLink link, PlanObjective objective)
    {
        double Seconds(int s, int first, int last)
        {
            var slot = slots[s];
            return slot.WorstFit(Parameters(first, last), Peak(first, last)).Ratio > 1 ? double.PositiveInfinity : StageSeconds(slot, s == 0 ? null : slots[s - 1], first, last, degree, link);
        }

        var bounds = Solve(slots, Seconds, objective == PlanObjective.Latency);
        if (bounds is null || objective != PlanObjective.Throughput || degree > 1 || SharedCores(slots) is not { } cores) return bounds;
        double slowest = 0, sum = 0;
        for (int s = 0; s < slots.Count; s++)
        {
            double seconds = Seconds(s, bounds[s], bounds[s + 1] - 1);
            slowest = Math.Max(slowest, seconds);
            sum += seconds;
        }

        double turns = sum / cores;
        if (turns <= slowest) return bounds;
        // The least sum with no stage above the bound the cores set now (less a margin, so that an estimate a few
        // points off does not make that stage the slowest): the time per batch by the estimate can only go down. When no
        // cut fits under it, the balanced one.
        double cap = turns * _margin;
        return Solve(slots, (s, first, last) => Seconds(s, first, last) is var seconds && seconds <= cap ? seconds : double.PositiveInfinity, sum: true) ?? bounds;
    }

    /// <summary>
    /// The cores of the one host every slot's single one-thread node runs on, when those nodes outnumber them (so they
    /// take turns); null otherwise (nodes apart, several per slot, or no more nodes than cores).
    /// </summary>
    private static int? SharedCores(IReadOnlyList<Slot> slots)
    {
        var first = slots[0].Replicas[0][0];
        if (string.IsNullOrEmpty(first.Host) || first.HostCores <= 0 || slots.Count <= first.HostCores) return null;
        foreach (var slot in slots)
        {
            if (slot.Replicas.Count != 1 || slot.Replicas[0].Length != 1) return null;
            var node = slot.Replicas[0][0];
            if (node.Host != first.Host || node.Threads != 1) return null;
        }

        return first.HostCores;
    }

    /// <summary>The cut whose worst need-to-budget ratio is smallest: explains why nothing fits, and by how much.</summary>
    public int[]? LeastOverflow(IReadOnlyList<Slot> slots) =>
        Solve(slots, (s, first, last) => slots[s].WorstFit(Parameters(first, last), Peak(first, last)).Ratio, sum: false);

    public long Peak(int first, int last)
    {
        int level = System.Numerics.BitOperations.Log2((uint)(last - first + 1));
        var table = _peak[level];
        return Math.Max(table[first], table[last - (1 << level) + 1]);
    }

    /// <param name="stageCost">The cost of slot s running steps first..last.</param>
    private int[]? Solve(IReadOnlyList<Slot> slots, Func<int, int, int, double> stageCost, bool sum)
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
                    double stage = stageCost(s, i, j);
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
