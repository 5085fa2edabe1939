using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cluster.Execution;

/// <summary>
/// Runs a plan from `tessera plan` across worker processes: replica r of the plan becomes one route (stage k on the
/// node the plan puts replica r of stage k on), each worker gets its stages' sub-models by hash (shipped once), a
/// batch is split between replicas by their weights along the plan's batch axes, and a replica's share of a
/// pipeline is sent as concurrent micro-batches so every stage works at once. Every sample passes through the same
/// sub-models as in <see cref="Partitioning.Execution.LocalPlanRunner"/>, so the outputs are bit-identical to it.
/// A tensor-parallel stage of degree T is one route step of T workers: replica r's node of rank k runs shard k, the
/// request goes to rank 0, which relays it to the others; the ranks exchange partial results worker to worker
/// (<see cref="Collective.NetworkCommunicator"/>) and rank 0's outputs go on.
/// </summary>
public sealed class PlanClusterRunner
{
    private readonly ClusterCoordinator _coordinator;
    private readonly Route[] _replicas;
    private readonly IReadOnlyDictionary<string, int>? _inputAxes;
    private readonly IReadOnlyDictionary<string, int>? _outputAxes;

    private PlanClusterRunner(ClusterCoordinator coordinator, PlanDocument plan, Route[] replicas, IReadOnlyDictionary<string, int>? inputAxes, IReadOnlyDictionary<string, int>? outputAxes)
    {
        _coordinator = coordinator;
        Plan = plan;
        _replicas = replicas;
        _inputAxes = inputAxes;
        _outputAxes = outputAxes;
    }

    public PlanDocument Plan { get; }

    /// <summary>One route per data-parallel replica.</summary>
    public IReadOnlyList<Route> Routes => _replicas;

    /// <summary>
    /// Most micro-batches a replica's share of a pipeline is cut into (at most one per row). Two per stage keep every
    /// stage busy while the next micro-batch travels; 1 turns micro-batching off.
    /// </summary>
    public int MicroBatchesPerStage { get; set; } = MicroBatches.PerStage;

    /// <summary>
    /// Checks the plan folder, connects to the workers of every node the plan uses (<paramref name="addresses"/> maps
    /// node names to host:port), and makes sure each has its stages' sub-models loaded.
    /// </summary>
    public static async Task<PlanClusterRunner> StartAsync(ClusterCoordinator coordinator, PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses, CancellationToken cancellation = default)
    {
        var nodes = plan.Stages.SelectMany(s => s.Replicas).SelectMany(r => r.Nodes).Distinct(StringComparer.Ordinal).ToList();
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

        return await StartAsync(coordinator, plan, directory, nodes.ToDictionary(n => n, n => connected[addresses[n]], StringComparer.Ordinal), cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// As above, on workers the coordinator is already connected to (<paramref name="workers"/> maps node names to
    /// them): a server that keeps its worker connections for several models places each plan on its own workers.
    /// </summary>
    public static async Task<PlanClusterRunner> StartAsync(ClusterCoordinator coordinator, PlanDocument plan, string directory, IReadOnlyDictionary<string, WorkerClient> workers, CancellationToken cancellation = default)
    {
        PlanReader.VerifyFiles(plan, directory);
        string? missing = plan.Stages.SelectMany(s => s.Replicas).SelectMany(r => r.Nodes).FirstOrDefault(n => !workers.ContainsKey(n));
        if (missing is not null)
        {
            throw new PartitionException($"the plan runs on node '{missing}', which has no worker");
        }

        // Each (worker, sub-model) once (several node names may share a worker); workers load in parallel.
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
        var routes = Enumerable.Range(0, plan.Stages[0].Replicas.Count)
            .Select(r => new Route([.. plan.Stages.Select(s => Step(s, s.Replicas[r], n => workers[n]))]))
            .ToArray();
        var (inputAxes, outputAxes) = plan.DataParallel is { } data ? (data.InputAxes, data.OutputAxes) : LeadingBatchAxes(plan, directory);
        return new PlanClusterRunner(coordinator, plan, routes, inputAxes, outputAxes);
    }

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

    /// <summary>
    /// Batch axes of a plan without replicas, for micro-batching: axis 0 when every model input (in stage 0) and output
    /// (in the last stage) declares it symbolic; otherwise none, and the pipeline gets each request whole.
    /// </summary>
    private static (IReadOnlyDictionary<string, int>?, IReadOnlyDictionary<string, int>?) LeadingBatchAxes(PlanDocument plan, string directory)
    {
        if (plan.Stages.Count < 2) return (null, null);
        var first = ModelReader.Load(Path.Combine(directory, plan.Stages[0].Model)).Graph;
        var last = ModelReader.Load(Path.Combine(directory, plan.Stages[^1].Model)).Graph;
        bool inputs = plan.Inputs.All(n => first.Inputs.FirstOrDefault(i => i.Name == n) is { Shape: [{ IsKnown: false }, ..] });
        bool outputs = plan.Outputs.All(n => last.Outputs.FirstOrDefault(o => o.Name == n) is { Shape: [{ IsKnown: false }, ..] });
        return inputs && outputs
            ? (plan.Inputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal), plan.Outputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal))
            : (null, null);
    }

    /// <summary>Runs the plan once and returns the model outputs by name, in the model's order.</summary>
    /// <param name="into">
    /// Tensors (by output name) to receive the outputs, as <see cref="DataParallelRunner"/> takes them: a pipeline's
    /// micro-batches are read straight into their rows of them, so a caller running batch after batch allocates nothing.
    /// </param>
    public async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation = default, IReadOnlyDictionary<string, Tensor>? into = null)
    {
        string? unknown = inputs.Keys.FirstOrDefault(k => !Plan.Inputs.Contains(k));
        if (unknown is not null) throw new PartitionException($"the model has no input named '{unknown}'; its inputs are: {string.Join(", ", Plan.Inputs)}");
        string? missing = Plan.Inputs.FirstOrDefault(k => !inputs.ContainsKey(k));
        if (missing is not null) throw new PartitionException($"input '{missing}' is missing");

        var outputs = Plan.DataParallel is null
            ? await RunShareAsync(0, inputs, cancellation, into).ConfigureAwait(false)
            : await RunReplicasAsync(inputs, cancellation).ConfigureAwait(false);
        // What could not be read into the caller's tensors in place (a share joined by copying, no batch axis) is copied there.
        return into is null ? outputs : outputs.ToDictionary(kv => kv.Key, kv => ShardedOutputs.Deliver(kv.Key, kv.Value, into), StringComparer.Ordinal);
    }

    /// <summary>The batch split between the replicas by their weights, each share run on its own route, then joined.</summary>
    private async Task<IReadOnlyDictionary<string, Tensor>> RunReplicasAsync(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation)
    {
        int rows = Rows(inputs);
        int[] counts = BatchSplit.Counts(rows, Plan.Stages[0].Replicas.Select(r => r.BatchWeight).ToList());
        var parts = new List<Task<IReadOnlyDictionary<string, Tensor>>>();
        for (int r = 0, start = 0; r < counts.Length; start += counts[r], r++)
        {
            if (counts[r] > 0) parts.Add(RunShareAsync(r, Slice(inputs, start, counts[r]), cancellation));
        }

        return Join(await Task.WhenAll(parts).ConfigureAwait(false));
    }

    /// <summary>Replica <paramref name="replica"/>'s share, as concurrent micro-batches when the plan is a pipeline.</summary>
    private Task<IReadOnlyDictionary<string, Tensor>> RunShareAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation, IReadOnlyDictionary<string, Tensor>? into = null)
    {
        int rows = _inputAxes is null ? 0 : Rows(inputs); // 0: no batch axis, sent whole
        return MicroBatches.RunAsync(inputs, rows, Plan.Stages.Count, MicroBatchesPerStage, name => _inputAxes![name], Plan.Outputs, name => _outputAxes![name],
            (share, place) => RunPreferringAsync(replica, share, place, cancellation), into);
    }

    private async Task<IReadOnlyDictionary<string, Tensor>> RunPreferringAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, OutputPlacement? place, CancellationToken cancellation)
    {
        // The replica's own route first so that shares spread out; when it fails, any other replica computes the same.
        try
        {
            return await _coordinator.RunAsync([_replicas[replica]], inputs, Plan.Outputs, cancellation, place).ConfigureAwait(false);
        }
        catch (ClusterException e) when (_replicas.Length > 1 && e.Code is ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed)
        {
            return await _coordinator.RunAsync([.. _replicas.Where((_, r) => r != replica)], inputs, Plan.Outputs, cancellation, place).ConfigureAwait(false);
        }
    }

    private int Rows(IReadOnlyDictionary<string, Tensor> inputs)
    {
        int rows = -1;
        foreach (var (name, tensor) in inputs)
        {
            int axis = _inputAxes![name];
            if (axis >= tensor.Rank) throw new PartitionException($"input '{name}' is {tensor}, which has no batch axis {axis}");
            if (rows >= 0 && tensor.Shape[axis] != rows)
            {
                throw new PartitionException($"input '{name}' has {tensor.Shape[axis]} rows on its batch axis, another input has {rows}");
            }

            rows = tensor.Shape[axis];
        }

        return rows;
    }

    private Dictionary<string, Tensor> Slice(IReadOnlyDictionary<string, Tensor> inputs, int start, int count) =>
        inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, _inputAxes![kv.Key], start, count), StringComparer.Ordinal);

    private Dictionary<string, Tensor> Join(IReadOnlyDictionary<string, Tensor>[] parts) =>
        Plan.Outputs.ToDictionary(o => o, o => parts.Length == 1 ? parts[0][o] : BatchSplit.Concat([.. parts.Select(p => p[o])], _outputAxes![o]), StringComparer.Ordinal);
}
