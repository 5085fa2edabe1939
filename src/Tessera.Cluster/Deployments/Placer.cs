using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Partitioning.TensorParallel;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// Makes placements: the whole model on each worker (data), a plan the Partitioning planner makes for the workers
/// (pipeline, tensor, auto), a plan file on the workers its nodes name, or a plan file in this process. Every worker
/// gets what its stages run by hash, shipped only when its cache lacks it; workers load in parallel.
/// </summary>
public static class Placer
{
    /// <summary>Places <paramref name="request"/> on <paramref name="members"/> by its strategy; a plan that cannot be made is a <see cref="PartitionException"/>.</summary>
    public static async Task<PlacementSet> PlaceAsync(ClusterCoordinator coordinator, PlacementRequest request, IReadOnlyList<Member> members, CancellationToken cancellation = default)
    {
        if (members.Count == 0) throw new ClusterException(ClusterErrorCode.WorkerDown, "there is no worker to place the model on");
        var outputs = request.Model.Graph.Outputs.Select(o => o.Name).ToArray();
        if (request.Strategy == DeploymentStrategy.Data || members.Count == 1)
        {
            return await WholeModelAsync(coordinator, request.ModelPath, outputs, members.Select(m => m.Worker).ToArray(), cancellation).ConfigureAwait(false);
        }

        var result = Plan(request, [.. members.Select(m => m.Planned(Calibration))]);
        string directory = Directory.CreateTempSubdirectory("tessera-plan-").FullName;
        try
        {
            var plan = PlanMaterializer.Write(result, request.ModelPath, directory);
            var byNode = members.ToDictionary(m => m.Node.Name, m => m.Worker, StringComparer.Ordinal);
            return await PlanOnWorkersAsync(coordinator, plan, directory, byNode, ownsDirectory: true, cancellation).ConfigureAwait(false);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>The planner's plan of <paramref name="request"/> for <paramref name="nodes"/> (calibrated rates when `tessera calibrate` saved them).</summary>
    public static PlanResult Plan(PlacementRequest request, IReadOnlyList<ClusterNode> nodes)
    {
        return Planner.Plan(new PlanRequest
        {
            Model = request.Model,
            InputShapes = request.InputShapes ?? ServingShapes(request.Model, nodes.Count),
            Cluster = new ClusterDescription { Nodes = [.. nodes] },
            Strategy = request.Strategy switch { DeploymentStrategy.Pipeline => PlanStrategy.Pipeline, DeploymentStrategy.Tensor => PlanStrategy.Tensor, _ => PlanStrategy.Auto },
            Objective = request.Objective,
            Stages = request.Strategy == DeploymentStrategy.Pipeline ? request.Stages ?? nodes.Count : null,
            // auto keeps to bit-identical plans: tensor parallelism sums in another order (docs/architecture.md).
            Degree = request.Strategy == DeploymentStrategy.Tensor ? Math.Min(request.Degree ?? nodes.Count, nodes.Count) : 1,
            Calibration = Calibration,
        });
    }

    /// <summary>The rates `tessera calibrate` saved, else the defaults.</summary>
    public static CalibrationProfile Calibration => File.Exists(CalibrationProfile.DefaultPath) ? CalibrationProfile.Load(CalibrationProfile.DefaultPath) : CalibrationProfile.Default;

    /// <summary>
    /// Shapes to plan a served model for, which has no request yet: the batch axis at one row per worker (so data
    /// replicas are feasible), other free dimensions at 1. The sub-models keep them free, so any size runs.
    /// </summary>
    private static Dictionary<string, int[]> ServingShapes(Onnx.Graph.OnnxModel model, int workers) =>
        model.Graph.Inputs.Where(i => i.Shape is not null && i.Shape.Any(d => !d.IsKnown)).ToDictionary(
            i => i.Name, i => i.Shape!.Select((d, axis) => d.Value is { } v ? (int)v : axis == 0 ? workers : 1).ToArray(), StringComparer.Ordinal);

    /// <summary>The whole model loaded on every worker: one single-stage placement per worker.</summary>
    public static async Task<PlacementSet> WholeModelAsync(ClusterCoordinator coordinator, string modelPath, IReadOnlyList<string> outputs, IReadOnlyList<WorkerClient> workers, CancellationToken cancellation = default)
    {
        var file = ModelFile.FromPath(modelPath);
        var loaded = await Task.WhenAll(workers.Select(w => coordinator.EnsureModelAsync(w, file, cancellation))).ConfigureAwait(false);
        return new PlacementSet([.. workers.Select((w, i) => new Placement([new RemoteStage(coordinator, new RouteStep(w, file.Hash, loaded[i].Inputs))], outputs))]);
    }

    /// <summary>
    /// Connects to the workers of every node <paramref name="plan"/> uses (<paramref name="addresses"/>: node name →
    /// host:port; several names may share a worker) and places it there.
    /// </summary>
    public static async Task<PlacementSet> PlanOnAddressesAsync(ClusterCoordinator coordinator, PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses, CancellationToken cancellation = default)
    {
        var nodes = NodesOf(plan).ToList();
        foreach (string node in nodes)
        {
            if (!addresses.TryGetValue(node, out string? address) || string.IsNullOrWhiteSpace(address))
            {
                throw new PartitionException($"the plan runs on node '{node}', but the cluster file gives no address for it");
            }
        }

        var connected = new Dictionary<string, WorkerClient>(StringComparer.Ordinal);
        foreach (string address in nodes.Select(n => addresses[n]).Distinct(StringComparer.Ordinal))
        {
            connected[address] = await coordinator.ConnectAsync(address, cancellation).ConfigureAwait(false);
        }

        return await PlanOnWorkersAsync(coordinator, plan, directory, nodes.ToDictionary(n => n, n => connected[addresses[n]], StringComparer.Ordinal), ownsDirectory: false, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Places a plan (its folder checked against the SHA-256s) on connected workers (<paramref name="workers"/>: node
    /// name → worker): replica r becomes a placement through stage k on replica r's node of stage k; a
    /// tensor-parallel stage of degree T is one step of T workers, replica r's node of rank k running shard k.
    /// </summary>
    public static async Task<PlacementSet> PlanOnWorkersAsync(ClusterCoordinator coordinator, PlanDocument plan, string directory, IReadOnlyDictionary<string, WorkerClient> workers, bool ownsDirectory = false, CancellationToken cancellation = default)
    {
        PlanReader.VerifyFiles(plan, directory);
        string? missing = NodesOf(plan).FirstOrDefault(n => !workers.ContainsKey(n));
        if (missing is not null) throw new PartitionException($"the plan runs on node '{missing}', which has no worker");

        // Each (worker, sub-model) once (several node names may share a worker).
        var loads = new List<Task>();
        var seen = new HashSet<(string, string)>();
        foreach (var stage in plan.Stages)
        {
            foreach (var replica in stage.Replicas)
            {
                for (int rank = 0; rank < RanksOf(stage); rank++)
                {
                    var (file, sha) = ModelOf(stage, rank);
                    var worker = workers[replica.Nodes[rank]];
                    if (seen.Add((worker.Address, sha)))
                    {
                        string path = Path.Combine(directory, file);
                        loads.Add(coordinator.EnsureModelAsync(worker, new ModelFile(path, Convert.FromHexString(sha), new FileInfo(path).Length), cancellation));
                    }
                }
            }
        }

        await Task.WhenAll(loads).ConfigureAwait(false);
        var placements = Enumerable.Range(0, plan.Stages[0].Replicas.Count).Select(r => new Placement(
            [.. plan.Stages.Select(s => new RemoteStage(coordinator, Step(s, s.Replicas[r], n => workers[n])))], plan.Outputs, plan.Stages[0].Replicas[r].BatchWeight));
        return new PlacementSet([.. placements], plan, directory, ownsDirectory: ownsDirectory);
    }

    /// <summary>
    /// A plan in this process: each stage in its own session (a tensor-parallel stage in a group of sessions whose ranks
    /// exchange partial results in memory), shared by the replicas, which run one after another.
    /// </summary>
    public static PlacementSet InProcess(PlanDocument plan, string directory, SessionOptions? options = null)
    {
        PlanReader.VerifyFiles(plan, directory);
        options ??= new SessionOptions();
        var owned = new List<IDisposable>();
        var stages = new List<LocalStage>();
        foreach (var stage in plan.Stages)
        {
            string name = $"stage {stage.Index}";
            if (stage.TensorParallel.Degree > 1)
            {
                var group = new TensorParallelGroup([.. stage.TensorParallel.Shards.Select(x => ModelReader.Load(Path.Combine(directory, x.Model)))], options);
                owned.Add(group);
                stages.Add(new LocalStage(name, stage.Inputs, group.Run));
            }
            else
            {
                stages.Add(new LocalStage(name, stage.Inputs, new InferenceSession(ModelReader.Load(Path.Combine(directory, stage.Model)), options).Run));
            }
        }

        var placements = plan.Stages[0].Replicas.Select(r => new Placement(stages, plan.Outputs, r.BatchWeight));
        return new PlacementSet([.. placements], plan, directory, owned);
    }

    /// <summary>The whole model in one session in this process: one placement (`batch` without workers).</summary>
    public static PlacementSet WholeModelInProcess(string modelPath, SessionOptions? options = null)
    {
        var session = InferenceSession.Load(modelPath, options ?? new SessionOptions());
        var stage = new LocalStage("this process", [.. session.Inputs.Select(i => i.Name)], session.Run);
        return new PlacementSet([new Placement([stage], [.. session.Outputs.Select(o => o.Name)])]);
    }

    private static IEnumerable<string> NodesOf(PlanDocument plan) =>
        plan.Stages.SelectMany(s => s.Replicas).SelectMany(r => r.Nodes).Distinct(StringComparer.Ordinal);

    private static int RanksOf(PlanStage stage) => Math.Max(1, stage.TensorParallel.Degree);

    /// <summary>The sub-model rank <paramref name="rank"/> of a stage runs: the stage's own, or its shard of that rank.</summary>
    private static (string File, string Sha256) ModelOf(PlanStage stage, int rank) =>
        stage.TensorParallel.Degree > 1 ? (stage.TensorParallel.Shards[rank].Model, stage.TensorParallel.Shards[rank].Sha256) : (stage.Model, stage.Sha256);

    /// <summary>One route step: the replica's node of rank 0, and for a tensor-parallel stage its nodes of ranks 1..T-1.</summary>
    private static RouteStep Step(PlanStage stage, PlanReplica replica, Func<string, WorkerClient> client)
    {
        var others = Enumerable.Range(1, RanksOf(stage) - 1).Select(k => new RouteShard(client(replica.Nodes[k]), Convert.FromHexString(ModelOf(stage, k).Sha256))).ToArray();
        return new RouteStep(client(replica.Nodes[0]), Convert.FromHexString(ModelOf(stage, 0).Sha256), stage.Inputs) { OtherRanks = others };
    }
}
