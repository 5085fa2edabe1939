using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Pipeline;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// Estimates one D x P x T combination: places nodes into stage slots (fastest nodes first, or largest memory
/// first; every distinct order of the slots for up to 5 stages), cuts the model for each placement, and keeps
/// the best feasible one, or explains the nearest miss. Candidates of tensor degree T ≥ 2 are evaluated over
/// <see cref="ShardedCost"/>: rank 0's optimised shard (its work and weights are per rank, its collectives cross the
/// link), cut only where replicated values cross.
/// </summary>
internal sealed class CandidateEvaluator
{
    private const int MaxPermutedStages = 5;
    private readonly StageCutter _cutter;
    private readonly ModelCost _cost;
    private readonly PlanRequest _request;
    private readonly int _batch;
    private readonly ShardedCost? _sharded;

    /// <param name="sharded">For candidates of its tensor degree: the shards to cut instead of <paramref name="cost"/>.</param>
    public CandidateEvaluator(ModelCost cost, PlanRequest request, int batch, ShardedCost? sharded = null)
    {
        _sharded = sharded;
        _cost = sharded?.Ranks[0] ?? cost;
        _request = request;
        _batch = batch;
        _cutter = new StageCutter(_cost, request.Calibration, sharded);
    }

    public Candidate Evaluate(int replicas, int stages, int degree)
    {
        Candidate Infeasible(string reason) => new() { Replicas = replicas, Stages = stages, Degree = degree, Feasible = false, Reason = reason };
        if (stages > _cost.Nodes.Count) return Infeasible($"the model has only {_cost.Nodes.Count} steps to cut into {stages} stages");
        if (replicas > _batch) return Infeasible($"a batch of {_batch} cannot feed {replicas} replicas");
        if (_sharded is { } sharded && sharded.ReplicatedCutCount < stages - 1)
        {
            return Infeasible($"the degree-{degree} shards can be cut at only {sharded.ReplicatedCutCount} places where no rank-local value crosses, too few for {stages} stages");
        }

        Candidate? best = null;
        (double Ratio, string Reason)? nearest = null;
        foreach (var slots in Placements(replicas, stages, degree))
        {
            var bounds = _cutter.Cut(slots, degree, _request.Cluster.Link, _request.Objective);
            if (bounds is null)
            {
                if (_cutter.LeastOverflow(slots) is not { } least) continue;
                var miss = Overflow(slots, least);
                if (nearest is null || miss.Ratio < nearest.Value.Ratio) nearest = miss;
                continue;
            }

            var candidate = Estimate(slots, bounds, replicas, degree);
            if (!candidate.Feasible)
            {
                nearest ??= (double.MaxValue, candidate.Reason!);
                continue;
            }

            if (best is null || Planner.Better(candidate, best, _request.Objective)) best = candidate;
        }

        return best ?? Infeasible(nearest?.Reason ?? "no placement of the nodes was found");
    }

    private (double Ratio, string Reason) Overflow(IReadOnlyList<Slot> slots, int[] bounds)
    {
        (double Ratio, string Reason) worst = (double.MinValue, string.Empty);
        for (int s = 0; s < slots.Count; s++)
        {
            var fit = slots[s].WorstFit(_cutter.Parameters(bounds[s], bounds[s + 1] - 1), _cutter.Peak(bounds[s], bounds[s + 1] - 1));
            if (fit.Ratio > worst.Ratio) worst = (fit.Ratio, NeedMessage(slots.Count, s, fit.Need, fit.Node));
        }

        return worst;
    }

    private static string NeedMessage(int stages, int stage, long need, Tessera.Partitioning.Planning.ClusterNode node) =>
        stages == 1
            ? $"the model needs {ByteSize.Format(need)}, node {node.Name} has {ByteSize.Format(node.MemoryBytes)}"
            : $"stage {stage} needs {ByteSize.Format(need)}, node {node.Name} has {ByteSize.Format(node.MemoryBytes)}";

    private Candidate Estimate(IReadOnlyList<Slot> slots, int[] bounds, int replicas, int degree)
    {
        var link = _request.Cluster.Link;
        int stages = slots.Count;
        var replicaSeconds = new double[replicas];
        for (int r = 0; r < replicas; r++)
        {
            for (int s = 0; s < stages; s++) replicaSeconds[r] += _cutter.Work(bounds[s], bounds[s + 1] - 1) / slots[s].Replicas[r].Min(n => n.Speed);
        }

        double[] weights = replicaSeconds.Select(t => 1 / t).ToArray();
        double total = weights.Sum();
        weights = weights.Select(w => Math.Round(w / total, 6)).ToArray();
        int[] counts = replicas == 1 ? [_batch] : BatchSplit.Counts(_batch, weights);
        var estimates = new List<CandidateStage>();
        var perReplica = new double[replicas];
        var hostSeconds = new Dictionary<string, (double Seconds, int Cores)>(StringComparer.Ordinal);
        double bottleneck = 0;
        long maxNode = 0;
        string? reason = null;
        for (int s = 0; s < stages; s++)
        {
            int first = bounds[s], last = bounds[s + 1] - 1;
            long parameters = _cost.ParameterBytes(first, last);
            long peak = _cost.PeakActivationBytes(first, last);
            double stageSeconds = 0;
            for (int r = 0; r < replicas; r++)
            {
                double share = counts[r] / (double)_batch;
                long need = parameters + (long)Math.Ceiling(peak * share);
                foreach (var node in slots[s].Replicas[r])
                {
                    maxNode = Math.Max(maxNode, need);
                    if (need > node.MemoryBytes && reason is null) reason = NeedMessage(stages, s, need, node);
                }

                double seconds = _cutter.Work(first, last) * share / slots[s].Replicas[r].Min(n => n.Speed)
                    + _cutter.CollectiveSeconds(first, last, degree, link, share)
                    + link.TransferSeconds(_cost.CutBytes(first) * share, slots[s].SharesHostWith(s == 0 ? null : slots[s - 1]));
                perReplica[r] += seconds;
                foreach (var node in slots[s].Replicas[r].Where(n => !string.IsNullOrEmpty(n.Host) && n.HostCores > 0))
                {
                    var (busy, cores) = hostSeconds.GetValueOrDefault(node.Host, (0, node.HostCores));
                    hostSeconds[node.Host] = (busy + seconds * node.Threads, cores);
                }

                stageSeconds = Math.Max(stageSeconds, seconds);
            }

            bottleneck = Math.Max(bottleneck, stageSeconds);
            double maxShare = counts.Max() / (double)_batch;
            estimates.Add(new CandidateStage(first, last, parameters, parameters + (long)Math.Ceiling(peak * maxShare), stageSeconds));
        }

        // Nodes of one host take turns on its cores: a batch holds that host at least its nodes' core-seconds over its
        // cores (3 one-thread stages on 2 cores run at 2 / (sum of stage times), not 1 / slowest stage).
        string boundingHost = string.Empty;
        foreach (var (host, (busy, cores)) in hostSeconds.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (busy / cores > bottleneck) (bottleneck, boundingHost) = (busy / cores, host);
        }

        double latency = Enumerable.Range(0, replicas).Max(r => perReplica[r] + link.TransferSeconds(_cost.CutBytes(_cost.Nodes.Count) * counts[r] / (double)_batch));
        return new Candidate
        {
            Replicas = replicas, Stages = stages, Degree = degree,
            Feasible = reason is null, Reason = reason,
            LatencySeconds = latency, ThroughputPerSecond = _batch / bottleneck, MaxNodeMemoryBytes = maxNode,
            BoundingHost = boundingHost,
            StageEstimates = estimates,
            Assignment = slots.Select(slot => (IReadOnlyList<string[]>)slot.Replicas.Select(r => r.Select(n => n.Name).ToArray()).ToList()).ToList(),
            ReplicaWeights = weights,
            Sharded = _sharded,
        };
    }

    /// <summary>Ways to seat D x P x T nodes: two orders of the cluster, then each distinct order of the stage slots.</summary>
    private IEnumerable<IReadOnlyList<Slot>> Placements(int replicas, int stages, int degree)
    {
        var nodes = _request.Cluster.Nodes;
        int used = replicas * stages * degree;
        var orders = new[]
        {
            nodes.OrderByDescending(n => n.Speed).ThenByDescending(n => n.MemoryBytes).ThenBy(n => n.Name, StringComparer.Ordinal).Take(used).ToList(),
            nodes.OrderByDescending(n => n.MemoryBytes).ThenByDescending(n => n.Speed).ThenBy(n => n.Name, StringComparer.Ordinal).Take(used).ToList(),
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var order in orders)
        {
            var slots = new List<Slot>();
            for (int s = 0; s < stages; s++)
            {
                var group = order.Skip(s * replicas * degree).Take(replicas * degree).ToList();
                var reps = Enumerable.Range(0, replicas).Select(r => group.Skip(r * degree).Take(degree).ToArray()).ToList();
                double sum = reps.Sum(r => r.Min(n => n.Speed));
                slots.Add(new Slot(reps, reps.Select(r => r.Min(n => n.Speed) / sum).ToList()));
            }

            foreach (var permutation in Permutations(slots))
            {
                string key = string.Join(";", permutation.Select(p => string.Join(",", p.Replicas.SelectMany(r => r.Select(n => n.Name)))));
                if (seen.Add(key)) yield return permutation;
            }
        }
    }

    private static IEnumerable<IReadOnlyList<Slot>> Permutations(List<Slot> slots)
    {
        if (slots.Count > MaxPermutedStages)
        {
            yield return slots;
            yield return Enumerable.Reverse(slots).ToList();
            yield break;
        }

        var signatures = new HashSet<string>(StringComparer.Ordinal);
        foreach (var order in Orders(slots.Count))
        {
            var permutation = order.Select(i => slots[i]).ToList();
            if (signatures.Add(string.Join(";", permutation.Select(p => p.Signature)))) yield return permutation;
        }
    }

    private static IEnumerable<int[]> Orders(int n)
    {
        if (n == 1)
        {
            yield return [0];
            yield break;
        }

        foreach (var rest in Orders(n - 1))
        {
            for (int at = n - 1; at >= 0; at--)
            {
                var order = new List<int>(rest);
                order.Insert(at, n - 1);
                yield return [.. order];
            }
        }
    }
}
