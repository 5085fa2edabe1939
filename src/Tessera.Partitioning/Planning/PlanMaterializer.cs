using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Pipeline;
using Tessera.Partitioning.Plans;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// Writes a chosen candidate as a plan folder: one standalone ONNX sub-model per stage (stageK.onnx) and plan.json
/// naming them with their SHA-256, or for a tensor-parallel plan one per stage and rank (stageK.rankR.onnx), cut
/// from each rank's optimised shard; the stage's model is then rank 0's shard (no unsharded model is cut at the
/// shards' steps). Sub-model files of an earlier plan in the same folder (stage*.onnx) are removed
/// first, so the folder holds exactly one plan.
/// </summary>
public static class PlanMaterializer
{
    public static PlanDocument Write(PlanResult result, string modelPath, string directory)
    {
        var chosen = result.Chosen;
        Directory.CreateDirectory(directory);
        foreach (string old in Directory.EnumerateFiles(directory, "stage*.onnx")) File.Delete(old);

        // A tensor-parallel plan's steps are rank 0's shard steps; every other plan's are the model's.
        var cost = chosen.Sharded?.Ranks[0] ?? result.Cost;
        var stages = new List<PlanStage>();
        for (int s = 0; s < chosen.Stages; s++)
        {
            var estimate = chosen.StageEstimates[s];
            string file;
            byte[] bytes;
            OnnxModel model;
            PlanTensorParallel tensorParallel;
            if (chosen.Sharded is { } sharded)
            {
                (model, tensorParallel) = ShardedStageWriter.Write(sharded, estimate.First, estimate.Last, s, directory);
                file = tensorParallel.Shards[0].Model;
                bytes = File.ReadAllBytes(Path.Combine(directory, file));
            }
            else
            {
                model = StageExtractor.Extract(cost, estimate.First, estimate.Last, $"stage{s}");
                bytes = ModelWriter.Serialize(model);
                file = $"stage{s}.onnx";
                File.WriteAllBytes(Path.Combine(directory, file), bytes);
                tensorParallel = new PlanTensorParallel { Degree = 1 };
            }

            var assignment = chosen.Assignment[s];
            stages.Add(new PlanStage
            {
                Index = s,
                Model = file,
                Sha256 = PlanWriter.Sha256(bytes),
                Nodes = assignment.SelectMany(r => r).ToList(),
                GraphNodes = estimate.Last - estimate.First + 1,
                FirstNode = cost.Nodes[estimate.First].Name,
                LastNode = cost.Nodes[estimate.Last].Name,
                Inputs = model.Graph.Inputs.Select(i => i.Name).ToList(),
                Outputs = model.Graph.Outputs.Select(o => o.Name).ToList(),
                ParameterBytes = estimate.ParameterBytes,
                PeakMemoryBytes = estimate.PeakMemoryBytes,
                EstimatedSeconds = Round(estimate.Seconds),
                TensorParallel = tensorParallel,
                Replicas = assignment.Select((nodes, r) => new PlanReplica { Index = r, Nodes = [.. nodes], BatchWeight = chosen.ReplicaWeights[r] }).ToList(),
            });
        }

        var graph = cost.SourceModel.Graph;
        var plan = new PlanDocument
        {
            Version = PlanDocument.CurrentVersion,
            Model = new PlanModelFile { Path = Path.GetFullPath(modelPath), Sha256 = PlanWriter.Sha256OfFile(modelPath) },
            Strategy = chosen.Strategy,
            Objective = result.Request.Objective == PlanObjective.Latency ? "latency" : "throughput",
            InputShapes = graph.Inputs.ToDictionary(i => i.Name, i => cost.InputShapes[i.Name], StringComparer.Ordinal),
            Inputs = graph.Inputs.Select(i => i.Name).ToList(),
            Outputs = graph.Outputs.Select(o => o.Name).ToList(),
            DataParallel = chosen.Replicas > 1 && result.Batch is { } batch
                ? new PlanDataParallel
                {
                    Replicas = chosen.Replicas,
                    InputAxes = graph.Inputs.ToDictionary(i => i.Name, i => batch.Inputs[i.Name], StringComparer.Ordinal),
                    OutputAxes = graph.Outputs.ToDictionary(o => o.Name, o => batch.Outputs[o.Name], StringComparer.Ordinal),
                }
                : null,
            Estimate = new PlanEstimate
            {
                LatencySeconds = Round(chosen.LatencySeconds),
                ThroughputPerSecond = Round(chosen.ThroughputPerSecond),
                MaxNodeMemoryBytes = chosen.MaxNodeMemoryBytes,
                Calibration = result.Request.Calibration.Source,
            },
            Cluster = result.Request.Cluster,
            Stages = stages,
        };
        PlanWriter.Write(plan, Path.Combine(directory, PlanWriter.FileName));
        return plan;
    }

    // Six significant digits: estimates are not more precise, and the file stays readable.
    private static double Round(double value) =>
        double.Parse(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}
