using System.Security.Cryptography;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Onnx.Graph;
using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Backends;

/// <summary>
/// Puts a model on workers and returns the <see cref="ClusterBackend"/> over it: the whole model on each of its
/// workers (data), a plan made for its workers (pipeline, auto), or a plan file on the nodes of a cluster file.
/// Failures a user can cause (a plan that does not fit, a wrong model) come back as one-line InvalidDataException.
/// </summary>
internal static class ClusterDeployment
{
    public static ClusterBackend Deploy(ServingCluster cluster, string name, string path, OnnxModel model, IReadOnlyList<int> workers, ClusterStrategy strategy)
    {
        var clients = workers.Select(i => cluster.Workers[i]).ToArray();
        if (strategy == ClusterStrategy.Data || clients.Length == 1)
        {
            var file = ModelFile.FromPath(path);
            var loaded = Wait(() => Task.WhenAll(clients.Select(c => cluster.Coordinator.EnsureModelAsync(c, file))));
            var routes = clients.Select((c, i) => new Route([new RouteStep(c, file.Hash, loaded[i].Inputs)])).ToArray();
            return new ClusterBackend(name, SignatureOf(model), cluster, routes);
        }

        var nodes = workers.Select(i => new ClusterNode
        {
            Name = $"worker-{i}",
            Address = cluster.Workers[i].Address,
            MemoryBytes = cluster.MemoryPerWorker,
            Threads = cluster.Threads,
        }).ToList();
        string directory = Directory.CreateTempSubdirectory("tessera-serve-plan-").FullName;
        try
        {
            var plan = PlanMaterializer.Write(Plan(name, model, nodes, strategy), path, directory);
            var byNode = nodes.Select((n, k) => (n.Name, Client: clients[k])).ToDictionary(x => x.Name, x => x.Client, StringComparer.Ordinal);
            return Start(cluster, name, model, plan, () => PlanClusterRunner.StartAsync(cluster.Coordinator, plan, directory, byNode), directory);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Serves <paramref name="plan"/> (from `tessera plan`) on the workers at <paramref name="addresses"/> (node name → host:port).</summary>
    public static ClusterBackend FromPlan(ServingCluster cluster, string name, string modelPath, OnnxModel model, PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses)
    {
        string hash;
        using (var stream = File.OpenRead(modelPath))
        {
            hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        if (!string.Equals(hash, plan.Model.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"the plan was made for another model (SHA-256 {plan.Model.Sha256} of {plan.Model.Path}), not '{modelPath}'");
        }

        return Start(cluster, name, model, plan, () => PlanClusterRunner.StartAsync(cluster.Coordinator, plan, directory, addresses), ownedDirectory: null);
    }

    private static ClusterBackend Start(ServingCluster cluster, string name, OnnxModel model, PlanDocument plan, Func<Task<PlanClusterRunner>> start, string? ownedDirectory)
    {
        PlanClusterRunner runner;
        try
        {
            runner = Wait(start);
        }
        catch (PartitionException e)
        {
            throw new InvalidDataException($"model '{name}': {e.Message}", e);
        }

        // The plan's replica weights are the speeds it planned them for: the dynamic policy starts from them.
        var speeds = plan.Stages[0].Replicas.Select(r => r.BatchWeight).ToArray();
        return new ClusterBackend(name, SignatureOf(model), cluster, runner.Routes, speeds, ownedDirectory);
    }

    private static PlanResult Plan(string name, OnnxModel model, List<ClusterNode> nodes, ClusterStrategy strategy)
    {
        // Serving has no request at planning time: the batch axis is planned at one row per worker (so data replicas
        // are feasible), other free dimensions at 1. The sub-models keep them free, so any size runs.
        var shapes = model.Graph.Inputs.Where(i => i.Shape is not null && i.Shape.Any(d => !d.IsKnown)).ToDictionary(
            i => i.Name, i => i.Shape!.Select((d, axis) => d.Value is { } v ? (int)v : axis == 0 ? nodes.Count : 1).ToArray(), StringComparer.Ordinal);
        try
        {
            return Planner.Plan(new PlanRequest
            {
                Model = model,
                InputShapes = shapes,
                Cluster = new ClusterDescription { Nodes = nodes },
                Strategy = strategy == ClusterStrategy.Pipeline ? PlanStrategy.Pipeline : PlanStrategy.Auto,
                Stages = strategy == ClusterStrategy.Pipeline ? nodes.Count : null,
                Degree = 1, // tensor-parallel stages would need a network collective between the workers
                Calibration = File.Exists(CalibrationProfile.DefaultPath) ? CalibrationProfile.Load(CalibrationProfile.DefaultPath) : CalibrationProfile.Default,
            });
        }
        catch (PartitionException e)
        {
            throw new InvalidDataException($"model '{name}': cannot plan it for {nodes.Count} workers: {e.Message}", e);
        }
    }

    private static ModelSignature SignatureOf(OnnxModel model) =>
        new(model.Graph.Inputs.Select(TensorSignature.From).ToArray(), model.Graph.Outputs.Select(TensorSignature.From).ToArray());

    /// <summary>Model loading is synchronous (the server listens only after it); the cluster calls run on the pool.</summary>
    private static T Wait<T>(Func<Task<T>> work) => Task.Run(work).GetAwaiter().GetResult();
}
