using System.Globalization;
using System.Text;
using Tessera.Partitioning.Plans;

namespace Tessera.Partitioning.Planning;

/// <summary>The text `tessera plan` prints: the candidates with their estimates or why they cannot run, then the chosen plan's stages.</summary>
public static class PlanReport
{
    public static string Format(PlanResult result, PlanDocument? written = null)
    {
        var sb = new StringBuilder();
        var cost = result.Cost;
        var request = result.Request;
        sb.AppendLine(Inv($"model: {cost.Nodes.Count} steps, {cost.TotalFlops / 1e9:F3} GFLOP, {ByteSize.Format(cost.TotalParameterBytes)} parameters; inputs {string.Join(", ", cost.InputShapes.Select(kv => $"{kv.Key}=[{string.Join(",", kv.Value)}]"))}"));
        if (cost.UnknownValueCount > 0) sb.AppendLine(Inv($"note: {cost.UnknownValueCount} values have shapes inference cannot tell; they count as 0 bytes"));
        sb.AppendLine(Inv($"cluster: {request.Cluster.Nodes.Count} nodes, link {request.Cluster.Link.BandwidthBytesPerSecond / 1e9:G4} GB/s, {request.Cluster.Link.LatencySeconds * 1e3:G4} ms; calibration: {request.Calibration.Source}; objective: {(request.Objective == PlanObjective.Latency ? "latency" : "throughput")}"));
        if (result.BatchReason is not null) sb.AppendLine($"data parallel: {result.BatchReason}");
        sb.AppendLine();
        sb.AppendLine("candidates (D replicas x P stages x T tensor degree):");
        sb.AppendLine(Inv($"  {"DxPxT",-7} {"strategy",-9} {"nodes",5} {"latency ms",11} {"samples/s",10} {"max node mem",13}  status"));
        foreach (var c in result.Candidates)
        {
            string latency = double.IsNaN(c.LatencySeconds) ? "-" : Inv($"{c.LatencySeconds * 1e3:F3}");
            string throughput = double.IsNaN(c.ThroughputPerSecond) ? "-" : Inv($"{c.ThroughputPerSecond:F1}");
            string memory = c.MaxNodeMemoryBytes > 0 ? ByteSize.Format(c.MaxNodeMemoryBytes) : "-";
            string status = ReferenceEquals(c, result.Chosen) ? "chosen" : c.Feasible ? "ok" : $"no: {c.Reason}";
            sb.AppendLine(Inv($"  {c.Shape,-7} {c.Strategy,-9} {c.NodeCount,5} {latency,11} {throughput,10} {memory,13}  {status}"));
        }

        var chosen = result.Chosen;
        var steps = chosen.Sharded?.Ranks[0] ?? cost;
        sb.AppendLine();
        sb.AppendLine(Inv($"chosen: {chosen.Strategy} {chosen.Shape}, estimated latency {chosen.LatencySeconds * 1e3:F3} ms, {chosen.ThroughputPerSecond:F1} samples/s"));
        sb.AppendLine(chosen.BoundingHost.Length > 0
            ? Inv($"  throughput bound: the cores of host {chosen.BoundingHost}, which its nodes take turns on (more than the slowest stage's time)")
            : "  throughput bound: the slowest stage");
        sb.AppendLine(Inv($"  {"stage",5} {"steps",11} {"params",10} {"peak mem",10} {"est ms",9} {"in bytes",10}  nodes"));
        for (int s = 0; s < chosen.StageEstimates.Count; s++)
        {
            var st = chosen.StageEstimates[s];
            string nodes = string.Join(" | ", chosen.Assignment[s].Select(r => string.Join("+", r)));
            sb.AppendLine(Inv($"  {s,5} {st.First + ".." + st.Last,11} {ByteSize.Format(st.ParameterBytes),10} {ByteSize.Format(st.PeakMemoryBytes),10} {st.Seconds * 1e3,9:F3} {ByteSize.Format(steps.CutBytes(st.First)),10}  {nodes}"));
        }

        if (chosen.Replicas > 1) sb.AppendLine($"  replica batch weights: {string.Join(", ", chosen.ReplicaWeights.Select(w => w.ToString("G4", CultureInfo.InvariantCulture)))}");
        if (chosen.Sharded is { } sharded)
        {
            sb.AppendLine(Inv($"  steps are rank 0's shard steps (degree {sharded.Degree}, {sharded.CollectiveSteps} collectives per run, cut only where every rank holds the same values)"));
        }

        if (written is not null)
        {
            var files = written.Stages.SelectMany(s => s.TensorParallel.Shards.Select(x => x.Model).Prepend(s.Model)).Distinct(StringComparer.Ordinal);
            sb.AppendLine($"  files: {string.Join(", ", files)}, plan.json");
        }

        AppendOperators(sb, cost, request);
        return sb.ToString();
    }

    /// <summary>The whole model's estimated seconds per operator at speed 1, laid out as `tessera bench --profile` lays out what it measured, to compare the two.</summary>
    private static void AppendOperators(StringBuilder sb, Cost.ModelCost cost, PlanRequest request)
    {
        var byOperator = cost.Nodes.GroupBy(n => n.OpType, StringComparer.Ordinal)
            .Select(g => (Operator: g.Key, Nodes: g.Count(), Seconds: g.Sum(request.Calibration.Seconds)))
            .OrderByDescending(o => o.Seconds).ToList();
        double total = byOperator.Sum(o => o.Seconds);
        sb.AppendLine();
        sb.AppendLine(Inv($"estimate per operator (whole model at speed 1, calibration {request.Calibration.Source}): {total * 1e3:F3} ms per inference in {cost.Nodes.Count} steps"));
        sb.AppendLine(Inv($"  {"operator",-28} {"nodes",6} {"ms/inf",10} {"share",7}"));
        foreach (var o in byOperator)
        {
            sb.AppendLine(Inv($"  {o.Operator,-28} {o.Nodes,6} {o.Seconds * 1e3,10:F3} {o.Seconds / total,7:P1}"));
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
