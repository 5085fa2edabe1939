using System.Globalization;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Execution;
using Tessera.Serving.Protocol;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// Runs a model on worker processes: each replica is a <see cref="Route"/> (one worker holding the whole model, or
/// a pipeline through several), so the scheduler's policies pick among routes as they pick among local sessions.
/// A batch on a pipeline is cut into micro-batches along the batch axis, sent at once, so every stage works; a
/// worker that goes down makes the call fail over to the other replicas, and with none left the call fails with a
/// 503 naming the workers and why (the coordinator's heartbeats bound how long that takes: never a hang).
/// </summary>
/// <remarks>Owns only <paramref name="ownedDirectory"/> (a plan written for it); the coordinator is the server's.</remarks>
internal sealed class ClusterBackend(
    string name, ModelSignature signature, ServingCluster cluster, IReadOnlyList<Route> routes,
    IReadOnlyList<double>? speeds = null, string? ownedDirectory = null) : IInferenceBackend
{
    private readonly Route[] _routes = [.. routes];
    private readonly string[] _outputs = [.. signature.Outputs.Select(o => o.Name)];
    private readonly WorkerLoad[][] _loads = [.. routes.Select(r => r.Workers.Select(cluster.LoadOf).ToArray())];

    // Per route: calls the scheduler handed over that have not finished, and cluster requests it answered.
    private readonly int[] _calls = new int[routes.Count];
    private readonly long[] _answered = new long[routes.Count];

    public ModelSignature Signature { get; } = signature;

    public int ReplicaCount => _routes.Length;

    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>A plan's batch weight for its replicas (the speed it planned them for); 1 for whole-model replicas.</summary>
    public double DeclaredSpeed(int replica) => speeds is null ? 1 : speeds[replica];

    public IReadOnlyList<WorkerLoad> WorkerLoads(int replica) => _loads[replica];

    /// <summary>Calls on the replica beyond the one it is running: the workers hold them in their model queues.</summary>
    public int Waiting(int replica) => Math.Max(0, Volatile.Read(ref _calls[replica]) - 1);

    /// <summary>Cluster requests (batches, or micro-batches of a pipeline) that route <paramref name="replica"/> answered.</summary>
    public long Answered(int replica) => Interlocked.Read(ref _answered[replica]);

    public async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls[replica]);
        try
        {
            int stages = _routes[replica].Stages.Count;
            int rows = stages > 1 && Signature.HasBatchAxis ? inputs.Values.First().Shape[0] : 0;
            if (rows > 0 && inputs.Values.Any(t => t.Shape[0] != rows))
            {
                rows = 0; // without batching nothing made the inputs agree on their leading dimension: send it whole
            }

            return await MicroBatches.RunAsync(inputs, rows, stages, MicroBatches.PerStage, _ => 0, _outputs, _ => 0,
                (slice, place) => RunPreferringAsync(replica, slice, place, cancellationToken)).ConfigureAwait(false);
        }
        catch (ClusterException e)
        {
            throw ToServing(e);
        }
        finally
        {
            Interlocked.Decrement(ref _calls[replica]);
        }
    }

    /// <summary>
    /// The chosen replica first; when one of its workers is down (or cannot reach the next stage), the other replicas,
    /// those up and least busy first. Each try is a single route so the answer is counted on the route that gave it.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, Tensor>> RunPreferringAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, OutputPlacement? place, CancellationToken cancellationToken)
    {
        var others = Enumerable.Range(0, _routes.Length).Where(r => r != replica)
            .OrderBy(r => _routes[r].IsUp ? 0 : 1).ThenBy(r => _routes[r].Workers.Sum(w => w.Outstanding));
        var reasons = new List<string>();
        foreach (int r in others.Prepend(replica))
        {
            try
            {
                // A micro-batch's outputs are read straight into its rows of the whole batch's (place).
                var outputs = await cluster.Coordinator.RunAsync([_routes[r]], inputs, _outputs, cancellationToken, place).ConfigureAwait(false);
                Interlocked.Increment(ref _answered[r]);
                return outputs;
            }
            catch (ClusterException e) when (e.Code is ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed)
            {
                reasons.Add(e.Message);
            }
        }

        throw new ServingException(503, $"model '{name}': no replica could run the request ({string.Join("; ", reasons.Distinct(StringComparer.Ordinal))})");
    }

    /// <summary>What the client is told about a worker's failure: its own mistakes as 400, the cluster's as 5xx.</summary>
    private ServingException ToServing(ClusterException e) => e.Code switch
    {
        ClusterErrorCode.InferenceFailed or ClusterErrorCode.BadRequest => ServingException.BadRequest(e.Message),
        ClusterErrorCode.Timeout => new ServingException(504, $"model '{name}': {e.Message}", e),
        ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed => new ServingException(503, $"model '{name}': {e.Message}", e),
        _ => new ServingException(502, string.Create(CultureInfo.InvariantCulture, $"model '{name}': a worker failed ({e.Code}): {e.Message}"), e),
    };

    public void Dispose()
    {
        if (ownedDirectory is not null)
        {
            try
            {
                Directory.Delete(ownedDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
