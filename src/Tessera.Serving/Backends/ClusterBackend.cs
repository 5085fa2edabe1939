using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Graph;
using Tessera.Partitioning;
using Tessera.Partitioning.Plans;
using Tessera.Serving.Protocol;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// A served model on workers: its replicas are the placements of its <see cref="Deployment"/> (one worker holding the
/// whole model, a pipeline through several, a tensor-parallel group), so the scheduler's policies pick among them as
/// among local sessions. The deployment micro-batches, fails over and joins; this class only turns its errors into
/// HTTP statuses (503 when no placement could run the request: never a hang, the coordinator's heartbeats bound it).
/// </summary>
/// <remarks>Owns the deployment; the coordinator and its workers are the server's.</remarks>
internal sealed class ClusterBackend(string name, ModelSignature signature, ServingCluster cluster, Deployment deployment) : IInferenceBackend
{
    // Calls the scheduler handed to a placement that have not finished.
    private readonly ConcurrentDictionary<Placement, StrongBox<int>> _calls = new();

    public ModelSignature Signature { get; } = signature;

    public Deployment Deployment { get; } = deployment;

    /// <summary>The placements; one while there is none (not placed yet), whose calls wait for a placement or fail with 503.</summary>
    public int ReplicaCount => Math.Max(1, Deployment.Placements.Count);

    public int Generation => Deployment.Generation;

    public string? Unready => Deployment.Unready;

    public IReadOnlyList<Placement> Routes => Deployment.Placements;

    /// <summary>The weight a placement was made for (a plan's batch weight, the speed it planned it for); 1 for whole-model replicas.</summary>
    public double DeclaredSpeed(int replica) => At(replica)?.Weight ?? 1;

    public IReadOnlyList<WorkerLoad> WorkerLoads(int replica) => [.. (At(replica)?.Workers ?? []).Select(cluster.LoadOf)];

    /// <summary>Calls on the replica beyond the one it is running: the workers hold them in their model queues.</summary>
    public int Waiting(int replica) => At(replica) is { } p ? Math.Max(0, Volatile.Read(ref Calls(p).Value) - 1) : 0;

    /// <summary>Cluster requests (batches, or micro-batches of a pipeline) that placement <paramref name="replica"/> answered.</summary>
    public long Answered(int replica) => At(replica)?.Answered ?? 0;

    public async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        var placement = At(replica);
        var calls = placement is null ? new StrongBox<int>() : Calls(placement);
        Interlocked.Increment(ref calls.Value);
        try
        {
            return await Deployment.RunOnAsync(placement, inputs, cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterException e)
        {
            throw ToServing(e);
        }
        finally
        {
            Interlocked.Decrement(ref calls.Value);
        }
    }

    /// <summary>
    /// The placement a scheduler's replica index stands for; an index from before a re-placement (the scheduler has not
    /// refreshed yet) stands for a current one, which the deployment treats as a mere preference.
    /// </summary>
    private Placement? At(int replica)
    {
        var placements = Deployment.Placements;
        return placements.Count == 0 ? null : placements[replica % placements.Count];
    }

    private StrongBox<int> Calls(Placement placement) => _calls.GetOrAdd(placement, _ => new StrongBox<int>());

    /// <summary>What the client is told about a worker's failure: its own mistakes as 400, the cluster's as 5xx.</summary>
    private ServingException ToServing(ClusterException e) => e.Code switch
    {
        ClusterErrorCode.InferenceFailed or ClusterErrorCode.BadRequest => ServingException.BadRequest(e.Message),
        ClusterErrorCode.Timeout => new ServingException(504, $"model '{name}': {e.Message}", e),
        ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed => new ServingException(503, $"model '{name}': {e.Message}", e),
        _ => new ServingException(502, string.Create(CultureInfo.InvariantCulture, $"model '{name}': a worker failed ({e.Code}): {e.Message}"), e),
    };

    public void Dispose() => Deployment.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Places a model on <paramref name="workers"/> (indices into the server's) by <paramref name="strategy"/>. Failures a
    /// user can cause (a plan that does not fit, a wrong model) come back as one-line InvalidDataException.
    /// </summary>
    /// <param name="growing">Whether the model also gets the workers that come after the start.</param>
    public static ClusterBackend Deploy(ServingCluster cluster, string name, string path, OnnxModel model, IReadOnlyList<int> workers, bool growing, DeploymentStrategy strategy)
    {
        var source = new Replacement(cluster.Coordinator, cluster.MembersFor(workers, growing), new PlacementRequest(path, model, strategy));
        var deployment = Wait(() => Deployment.StartAsync(name, source, cluster.DeploymentOptions, cluster.Logger), name, $"cannot plan it for {workers.Count} workers: ");
        return new ClusterBackend(name, SignatureOf(model), cluster, deployment);
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

        var placements = Wait(() => Placer.PlanOnAddressesAsync(cluster.Coordinator, plan, directory, addresses), name, "");
        var deployment = new Deployment(name, DeploymentModel.ForPlan(plan, directory), placements, cluster.DeploymentOptions, cluster.Logger);
        return new ClusterBackend(name, SignatureOf(model), cluster, deployment);
    }

    /// <summary>Model loading is synchronous (the server listens only after it); the cluster calls run on the pool.</summary>
    private static T Wait<T>(Func<Task<T>> work, string name, string planFailure)
    {
        try
        {
            return Task.Run(work).GetAwaiter().GetResult();
        }
        catch (PartitionException e)
        {
            throw new InvalidDataException($"model '{name}': {planFailure}{e.Message}", e);
        }
    }

    private static ModelSignature SignatureOf(OnnxModel model) =>
        new(model.Graph.Inputs.Select(TensorSignature.From).ToArray(), model.Graph.Outputs.Select(TensorSignature.From).ToArray());
}
