using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Pipeline;
using Tessera.Partitioning.Plans;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// Writes one stage of a tensor-parallel plan (hybrid or whole-model): steps first..last cut from every rank's optimised shard at the same
/// positions (<see cref="ShardedCost"/> guarantees the ranks have the same steps and that only replicated values
/// cross the cuts), each a standalone model with only that rank's constants, as stageK.rankR.onnx.
/// </summary>
internal static class ShardedStageWriter
{
    /// <returns>Rank 0's stage model (its inputs and outputs are every rank's) and the stage's shard list.</returns>
    public static (OnnxModel Rank0, PlanTensorParallel Parallel) Write(ShardedCost sharded, int first, int last, int stage, string directory)
    {
        var shards = new List<PlanShard>();
        OnnxModel? rank0 = null;
        for (int rank = 0; rank < sharded.Degree; rank++)
        {
            var model = StageExtractor.Extract(sharded.Ranks[rank], first, last, $"stage{stage}");
            model.Metadata["tessera.tensor_parallel.rank"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture);
            model.Metadata["tessera.tensor_parallel.degree"] = sharded.Degree.ToString(System.Globalization.CultureInfo.InvariantCulture);
            rank0 ??= model;
            if (!Names(model.Graph.Inputs).SequenceEqual(Names(rank0.Graph.Inputs)) || !Names(model.Graph.Outputs).SequenceEqual(Names(rank0.Graph.Outputs)))
            {
                throw new InvalidOperationException($"internal error: stage {stage} of rank {rank} has other inputs or outputs than rank 0's");
            }

            byte[] bytes = ModelWriter.Serialize(model);
            string file = $"stage{stage}.rank{rank}.onnx";
            File.WriteAllBytes(Path.Combine(directory, file), bytes);
            shards.Add(new PlanShard { Rank = rank, Model = file, Sha256 = PlanWriter.Sha256(bytes) });
        }

        return (rank0!, new PlanTensorParallel { Degree = sharded.Degree, Shards = shards });
    }

    private static IEnumerable<string> Names(IEnumerable<ValueInfo> values) => values.Select(v => v.Name);
}
