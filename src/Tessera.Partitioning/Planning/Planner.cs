using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// Chooses how to run a model on a cluster: enumerates data (D) x pipeline (P) x tensor (T) combinations that fit
/// the node count and the strategy asked for, estimates each with the cost model and the calibration (compute on
/// each node's relative speed, transfers on the link), and picks the best feasible one for the objective; ties go
/// to fewer nodes, then to the earlier candidate. The same request always gives the same plan.
/// </summary>
public static class Planner
{
    public static PlanResult Plan(PlanRequest request) => Plan(request, ModelCost.Analyze(request.Model, request.InputShapes));

    public static PlanResult Plan(PlanRequest request, ModelCost cost)
    {
        request.Cluster.Validate("cluster");
        if (request.Cluster.Nodes.FirstOrDefault(n => n.MeasureSpeed) is { } unmeasured)
        {
            throw new PartitionException($"node '{unmeasured.Name}' has speed \"measure\": plan on the workers themselves (`run`/`serve --cluster --strategy`), which measure it, or give a number");
        }

        CheckOption(request.Stages, "--stages");
        CheckOption(request.Degree, "--degree");
        CheckOption(request.Replicas, "--replicas");

        BatchAxes? batch = null;
        string? batchReason = null;
        try
        {
            batch = BatchAxes.Detect(request.Model, cost.InputShapes);
        }
        catch (PartitionException e)
        {
            batchReason = e.Message;
        }

        var evaluator = new CandidateEvaluator(cost, request, batch?.Batch ?? 1);
        var hybrid = new Dictionary<int, (CandidateEvaluator? Evaluator, string? Reason)>();
        var candidates = new List<Candidate>();
        foreach (var (d, p, t) in Combinations(request))
        {
            if (d > 1 && batch is null)
            {
                candidates.Add(new Candidate { Replicas = d, Stages = p, Degree = t, Feasible = false, Reason = batchReason });
                continue;
            }

            if (t == 1)
            {
                candidates.Add(evaluator.Evaluate(d, p, t));
                continue;
            }

            // Degree T runs the T shards of the tensor-parallel rewrite: stages are cut from their optimised graphs
            // (ShardedCost, analysed once per T), whose work, weights and collectives are what each rank runs.
            if (!hybrid.TryGetValue(t, out var sharded)) hybrid[t] = sharded = ShardedEvaluator(cost, request, batch?.Batch ?? 1, t);
            candidates.Add(sharded.Evaluator?.Evaluate(d, p, t)
                ?? new Candidate { Replicas = d, Stages = p, Degree = t, Feasible = false, Reason = sharded.Reason });
        }

        if (candidates.Count == 0)
        {
            throw new PartitionException($"no candidate: the cluster has {request.Cluster.Nodes.Count} node(s), fewer than strategy {request.Strategy.ToString().ToLowerInvariant()} with the options given needs");
        }

        Candidate? chosen = null;
        foreach (var c in candidates.Where(c => c.Feasible))
        {
            if (chosen is null || Better(c, chosen, request.Objective)) chosen = c;
        }

        if (chosen is null) throw new PartitionException(NoPlanMessage(cost, candidates, request));
        return new PlanResult { Request = request, Cost = cost, Batch = batch, BatchReason = batchReason, Candidates = candidates, Chosen = chosen };
    }

    private static (CandidateEvaluator? Evaluator, string? Reason) ShardedEvaluator(ModelCost cost, PlanRequest request, int batch, int degree)
    {
        try
        {
            return (new CandidateEvaluator(cost, request, batch, ShardedCost.Analyze(cost.SourceModel, degree, cost.InputShapes)), null);
        }
        catch (PartitionException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Whether <paramref name="a"/> beats <paramref name="b"/>: the objective first, then the other figure, then fewer nodes.</summary>
    internal static bool Better(Candidate a, Candidate b, PlanObjective objective)
    {
        int first = objective == PlanObjective.Latency
            ? a.LatencySeconds.CompareTo(b.LatencySeconds)
            : b.ThroughputPerSecond.CompareTo(a.ThroughputPerSecond);
        if (first != 0) return first < 0;
        int second = objective == PlanObjective.Latency
            ? b.ThroughputPerSecond.CompareTo(a.ThroughputPerSecond)
            : a.LatencySeconds.CompareTo(b.LatencySeconds);
        if (second != 0) return second < 0;
        return a.NodeCount < b.NodeCount;
    }

    private static void CheckOption(int? value, string name)
    {
        if (value is < 1) throw new PartitionException($"{name} must be 1 or more");
    }

    private static IEnumerable<(int D, int P, int T)> Combinations(PlanRequest request)
    {
        int n = request.Cluster.Nodes.Count;
        for (int d = 1; d <= n; d++)
        {
            for (int p = 1; d * p <= n; p++)
            {
                for (int t = 1; d * p * t <= n; t++)
                {
                    if (request.Replicas is { } rd && d != rd) continue;
                    if (request.Stages is { } rp && p != rp) continue;
                    if (request.Degree is { } rt && t != rt) continue;
                    int parallel = (d > 1 ? 1 : 0) + (p > 1 ? 1 : 0) + (t > 1 ? 1 : 0);
                    bool wanted = request.Strategy switch
                    {
                        PlanStrategy.Pipeline => d == 1 && t == 1 && (p > 1 || request.Stages == 1),
                        PlanStrategy.Data => p == 1 && t == 1 && (d > 1 || request.Replicas == 1),
                        PlanStrategy.Tensor => d == 1 && p == 1 && (t > 1 || request.Degree == 1),
                        PlanStrategy.Hybrid => parallel >= 2,
                        _ => true,
                    };
                    if (wanted) yield return (d, p, t);
                }
            }
        }
    }

    private static string NoPlanMessage(ModelCost cost, List<Candidate> candidates, PlanRequest request)
    {
        // The largest indivisible need: one step with its parameters and what is live while it runs.
        int worst = 0;
        long worstNeed = -1;
        for (int t = 0; t < cost.Nodes.Count; t++)
        {
            long need = cost.PeakMemoryBytes(t, t);
            if (need > worstNeed) (worst, worstNeed) = (t, need);
        }

        var biggest = request.Cluster.Nodes.OrderByDescending(n => n.MemoryBytes).First();
        // The candidate spreading over the most nodes (pipelines first) came closest; its reason says what still does not fit.
        var first = candidates.Where(c => c.Reason is not null)
            .OrderByDescending(c => c.NodeCount).ThenByDescending(c => c.Stages).FirstOrDefault() ?? candidates[0];
        var step = cost.Nodes[worst];
        return $"no plan fits: {first.Shape} ({first.Strategy}): {first.Reason}; the whole model needs {ByteSize.Format(cost.PeakMemoryBytes(0, cost.Nodes.Count - 1))}, "
            + $"the largest single step ({step.OpType} '{step.Name}') needs {ByteSize.Format(worstNeed)}, the largest node ({biggest.Name}) has {ByteSize.Format(biggest.MemoryBytes)}";
    }
}
