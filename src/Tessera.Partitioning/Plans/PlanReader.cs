namespace Tessera.Partitioning.Plans;

/// <summary>
/// Reads and checks plan.json. A plan that parses but does not hang together (stages out of order, a stage reading
/// a tensor the previous one does not send, a replica on a node the cluster does not have...) is rejected with a
/// one-line <see cref="PartitionException"/>, as is a missing field or one of the wrong type.
/// </summary>
public static class PlanReader
{
    public static PlanDocument Load(string path)
    {
        var plan = Parse(PlanJson.ReadFile(path, "plan file"), path);
        return plan;
    }

    public static PlanDocument Parse(string json, string displayName = "plan")
    {
        var plan = PlanJson.Parse<PlanDocument>(json, "plan file", displayName);
        Validate(plan, $"plan file '{displayName}'");
        return plan;
    }

    /// <summary>Checks that every sub-model file exists in <paramref name="directory"/> and has the recorded SHA-256.</summary>
    public static void VerifyFiles(PlanDocument plan, string directory)
    {
        foreach (var (file, sha) in plan.Stages.SelectMany(Files))
        {
            string path = Path.Combine(directory, file);
            if (!File.Exists(path)) throw new PartitionException($"plan sub-model '{path}' does not exist");
            string actual = PlanWriter.Sha256OfFile(path);
            if (actual != sha) throw new PartitionException($"plan sub-model '{path}' has SHA-256 {actual}, but the plan records {sha}; the plan folder was changed");
        }
    }

    private static IEnumerable<(string File, string Sha)> Files(PlanStage stage) =>
        stage.TensorParallel.Shards.Select(s => (s.Model, s.Sha256)).Prepend((stage.Model, stage.Sha256));

    private static void Validate(PlanDocument plan, string where)
    {
        if (plan.Version != PlanDocument.CurrentVersion)
        {
            throw new PartitionException($"{where}: version {plan.Version} is not supported (this build reads version {PlanDocument.CurrentVersion})");
        }

        CheckSha(plan.Model.Sha256, $"{where}: model.sha256");
        if (plan.Strategy is not ("single" or "pipeline" or "data" or "tensor" or "hybrid"))
        {
            throw new PartitionException($"{where}: strategy '{plan.Strategy}' is not one of single, pipeline, data, tensor, hybrid");
        }

        if (plan.Objective is not ("latency" or "throughput")) throw new PartitionException($"{where}: objective '{plan.Objective}' is not latency or throughput");
        plan.Cluster.Validate($"{where}: cluster");
        if (plan.Stages.Count == 0) throw new PartitionException($"{where}: \"stages\" is empty");
        if (plan.Inputs.Count == 0 || plan.Outputs.Count == 0) throw new PartitionException($"{where}: \"inputs\" and \"outputs\" must name the model's inputs and outputs");

        int replicas = plan.Stages[0].Replicas.Count;
        IReadOnlyCollection<string> available = plan.Inputs;
        for (int i = 0; i < plan.Stages.Count; i++)
        {
            var stage = plan.Stages[i];
            string at = $"{where}: stage {i}";
            if (stage.Index != i) throw new PartitionException($"{at} has index {stage.Index}; stages must be listed in order from 0");
            CheckFile(stage.Model, $"{at}.model");
            CheckSha(stage.Sha256, $"{at}.sha256");
            CheckStageParallelism(plan, stage, at, replicas);
            string? missing = stage.Inputs.FirstOrDefault(n => !available.Contains(n));
            if (missing is not null)
            {
                string from = i == 0 ? "the model's inputs" : $"stage {i - 1}'s outputs";
                throw new PartitionException($"{at} reads '{missing}', which is not among {from}");
            }

            if (stage.Outputs.Count == 0) throw new PartitionException($"{at} has no outputs");
            available = stage.Outputs;
        }

        string? lost = plan.Outputs.FirstOrDefault(o => !available.Contains(o));
        if (lost is not null) throw new PartitionException($"{where}: model output '{lost}' is not an output of the last stage");
        if (replicas > 1 && plan.DataParallel is null) throw new PartitionException($"{where}: stages have {replicas} replicas but \"dataParallel\" is missing");
        if (plan.DataParallel is { } data)
        {
            if (data.Replicas != replicas) throw new PartitionException($"{where}: dataParallel.replicas is {data.Replicas}, but stages have {replicas}");
            string? noAxis = plan.Inputs.FirstOrDefault(n => !data.InputAxes.ContainsKey(n)) ?? plan.Outputs.FirstOrDefault(n => !data.OutputAxes.ContainsKey(n));
            if (noAxis is not null) throw new PartitionException($"{where}: dataParallel names no batch axis for '{noAxis}'");
            if (data.InputAxes.Values.Concat(data.OutputAxes.Values).Any(a => a < 0)) throw new PartitionException($"{where}: dataParallel axes must be 0 or more");
        }
    }

    private static void CheckStageParallelism(PlanDocument plan, PlanStage stage, string at, int replicas)
    {
        int degree = stage.TensorParallel.Degree;
        if (degree < 1) throw new PartitionException($"{at}: tensorParallel.degree must be 1 or more");
        if (degree > 1)
        {
            if (stage.TensorParallel.Shards.Count != degree) throw new PartitionException($"{at}: tensorParallel lists {stage.TensorParallel.Shards.Count} shards for degree {degree}");
            for (int r = 0; r < degree; r++)
            {
                var shard = stage.TensorParallel.Shards[r];
                if (shard.Rank != r) throw new PartitionException($"{at}: shard {r} has rank {shard.Rank}; shards must be listed by rank from 0");
                CheckFile(shard.Model, $"{at}.tensorParallel.shards[{r}].model");
                CheckSha(shard.Sha256, $"{at}.tensorParallel.shards[{r}].sha256");
            }
        }

        if (stage.Replicas.Count == 0) throw new PartitionException($"{at} has no replicas");
        if (stage.Replicas.Count != replicas) throw new PartitionException($"{at} has {stage.Replicas.Count} replicas, stage 0 has {replicas}");
        for (int r = 0; r < stage.Replicas.Count; r++)
        {
            var replica = stage.Replicas[r];
            if (replica.Index != r) throw new PartitionException($"{at}: replica {r} has index {replica.Index}");
            if (replica.Nodes.Count != degree) throw new PartitionException($"{at}: replica {r} lists {replica.Nodes.Count} nodes for tensor-parallel degree {degree}");
            string? unknown = replica.Nodes.FirstOrDefault(n => !plan.Cluster.Nodes.Any(c => c.Name == n));
            if (unknown is not null) throw new PartitionException($"{at}: replica {r} runs on node '{unknown}', which the plan's cluster does not have");
            if (!(replica.BatchWeight > 0) || double.IsInfinity(replica.BatchWeight)) throw new PartitionException($"{at}: replica {r} batchWeight must be a positive number");
        }
    }

    private static void CheckFile(string name, string at)
    {
        if (string.IsNullOrEmpty(name) || name != Path.GetFileName(name) || name is "." or "..")
        {
            throw new PartitionException($"{at} must be a file name inside the plan folder, not '{name}'");
        }
    }

    private static void CheckSha(string sha, string at)
    {
        if (sha is null || sha.Length != 64 || !sha.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new PartitionException($"{at} must be 64 lowercase hex digits");
        }
    }
}
