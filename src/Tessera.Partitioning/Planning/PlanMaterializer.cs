using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Pipeline;
using Tessera.Partitioning.Plans;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// Writes a chosen candidate as a plan folder: one standalone ONNX sub-model per stage (stageK.onnx) and plan.json
/// naming them with their SHA-256; a tensor-parallel stage also one file per rank (stageK.rankR.onnx), and in a
/// hybrid plan its stage model is rank 0's shard (there is no unsharded model cut at the shards' steps). Sub-model files of an earlier plan in the same folder (stage*.onnx) are removed
/// first, so the folder holds exactly one plan.
/// </summary>
public static class PlanMaterializer
{
    public static PlanDocument Write(PlanResult result, string modelPath, string directory)
    {
        var chosen = result.Chosen;
        Directory.CreateDirectory(directory);
        foreach (string old in Directory.EnumerateFiles(directory, "stage*.onnx")) File.Delete(old);

        // A hybrid plan's steps are rank 0's shard steps; every other plan's are the model's.
        var cost = chosen.Sharded?.Ranks[0] ?? result.Cost;
        var stages = new List<PlanStage>();
        for (int s = 0; s < chosen.Stages; s++)
        {
            var estimate = chosen.StageEstimates[s];
            string file;
            byte[] bytes;
            OnnxModel model;
            PlanTensorParallel tensorParallel;
            long parameterBytes = estimate.ParameterBytes, peakMemory = estimate.PeakMemoryBytes;
            if (chosen.Sharded is { } sharded)
            {
                (model, tensorParallel) = HybridStageWriter.Write(sharded, estimate.First, estimate.Last, s, directory);
                file = tensorParallel.Shards[0].Model;
                bytes = File.ReadAllBytes(Path.Combine(directory, file));
            }
            else
            {
                model = StageExtractor.Extract(cost, estimate.First, estimate.Last, $"stage{s}");
                bytes = ModelWriter.Serialize(model);
                file = $"stage{s}.onnx";
                File.WriteAllBytes(Path.Combine(directory, file), bytes);
                (tensorParallel, parameterBytes, peakMemory) = chosen.Degree > 1
                    ? WriteShards(result, s, directory)
                    : (new PlanTensorParallel { Degree = 1 }, estimate.ParameterBytes, estimate.PeakMemoryBytes);
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
                ParameterBytes = parameterBytes,
                PeakMemoryBytes = peakMemory,
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

    /// <summary>
    /// Shards of a whole-model tensor-parallel stage: the rewrite runs on the source model (its MatMul/Gemm layers,
    /// before fusion); each rank's session then optimises its shard. Stage files are stageK.rankR.onnx.
    /// </summary>
    private static (PlanTensorParallel Parallel, long ParameterBytes, long PeakMemoryBytes) WriteShards(PlanResult result, int stage, string directory)
    {
        var cost = result.Cost;
        var model = cost.SourceModel;
        Tessera.Partitioning.TensorParallel.TensorParallelModel sharded;
        try
        {
            sharded = Tessera.Partitioning.TensorParallel.TensorParallelRewriter.Rewrite(model, result.Chosen.Degree);
        }
        catch (ArgumentException e)
        {
            throw new PartitionException($"the tensor-parallel rewrite failed: {e.Message}", e);
        }

        var shards = new List<PlanShard>();
        for (int rank = 0; rank < sharded.Shards.Count; rank++)
        {
            byte[] bytes = ModelWriter.Serialize(sharded.Shards[rank]);
            string file = $"stage{stage}.rank{rank}.onnx";
            File.WriteAllBytes(Path.Combine(directory, file), bytes);
            shards.Add(new PlanShard { Rank = rank, Model = file, Sha256 = PlanWriter.Sha256(bytes) });
        }

        long parameters = sharded.ParameterBytesPerShard.Max();
        var estimate = result.Chosen.StageEstimates[stage];
        return (new PlanTensorParallel { Degree = sharded.Degree, Shards = shards }, parameters, parameters + estimate.PeakMemoryBytes - estimate.ParameterBytes);
    }

    // Six significant digits: estimates are not more precise, and the file stays readable.
    private static double Round(double value) =>
        double.Parse(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}
