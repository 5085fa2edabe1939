using Tessera.Cli.Common;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera run --workers N`: starts N local worker processes, runs the model on them, and stops them. `data` splits
/// the batch over whole-model replicas; `pipeline` (N stages), `tensor` (one tensor-parallel group of degree T,
/// default N, whose ranks exchange partial results worker to worker) and `auto` (the planner's choice, without
/// tensor parallelism, whose outputs are not bit-identical) plan the model for N loopback nodes, write the plan to a
/// temporary folder and run it on the workers.
/// </summary>
internal static class RunOnWorkers
{
    public static IReadOnlyDictionary<string, Tensor> Run(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, int workers, int threads, string strategy, int? degree)
    {
        if (degree is { } d && (strategy != "tensor" || d < 1 || d > workers))
        {
            throw new CliException(strategy != "tensor" ? "--degree goes with --strategy tensor" : $"--degree must be between 1 and --workers ({workers})");
        }

        var model = ModelFile.FromPath(modelPath);
        var graph = ModelReader.Load(modelPath);
        var outputs = graph.Graph.Outputs.Select(o => o.Name).ToArray();
        using var local = LocalWorkers.Start(workers, threads, LocalCluster.SelfCommand(), TimeSpan.FromSeconds(60));
        if (strategy == "data")
        {
            return RunDataAsync(local, model, feeds, outputs).GetAwaiter().GetResult();
        }

        var nodes = local.Addresses.Select((a, i) => new ClusterNode
        {
            Name = $"local-{i}",
            Address = a,
            // The workers share this machine's memory.
            MemoryBytes = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / workers),
            Threads = threads,
        }).ToList();
        string directory = Directory.CreateTempSubdirectory("tessera-run-plan-").FullName;
        try
        {
            var result = Plan(graph, feeds, nodes, strategy, workers, degree);
            var plan = PlanMaterializer.Write(result, modelPath, directory);
            return PlanOnCluster.Run(plan, directory, nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal), local.Token, feeds);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static PlanResult Plan(Onnx.Graph.OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, List<ClusterNode> nodes, string strategy, int workers, int? degree)
    {
        try
        {
            return Planner.Plan(new PlanRequest
            {
                Model = model,
                InputShapes = feeds.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal),
                Cluster = new ClusterDescription { Nodes = nodes },
                Strategy = strategy switch { "pipeline" => PlanStrategy.Pipeline, "tensor" => PlanStrategy.Tensor, _ => PlanStrategy.Auto },
                Stages = strategy == "pipeline" ? workers : null,
                // auto keeps to bit-identical plans: tensor parallelism sums in another order (docs/architecture.md).
                Degree = strategy == "tensor" ? degree ?? workers : 1,
                Calibration = File.Exists(CalibrationProfile.DefaultPath) ? CalibrationProfile.Load(CalibrationProfile.DefaultPath) : CalibrationProfile.Default,
            });
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunDataAsync(LocalWorkers local, ModelFile model, IReadOnlyDictionary<string, Tensor> feeds, string[] outputs)
    {
        await using var coordinator = new ClusterCoordinator(local.Token);
        var clients = await Task.WhenAll(local.Addresses.Select(a => coordinator.ConnectAsync(a))).ConfigureAwait(false);
        var loaded = await Task.WhenAll(clients.Select(c => coordinator.EnsureModelAsync(c, model))).ConfigureAwait(false);
        var replicas = clients.Select((c, i) => new Route([new RouteStep(c, model.Hash, loaded[i].Inputs)])).ToArray();
        return await DataParallelRunner.RunAsync(coordinator, replicas, feeds, outputs).ConfigureAwait(false);
    }

}
