using Tessera.Serving.Scheduling;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// Where a model's work runs: one or more replicas that each take one call at a time from the scheduler. The
/// single-node backend (<see cref="LocalBackend"/>) holds one InferenceSession per replica; a cluster backend
/// plugs in here with one replica per worker (or per pipeline).
/// </summary>
/// <remarks>
/// Ownership: the input tensors stay the caller's (the backend must not keep them after the task completes); the
/// returned tensors belong to the caller. <see cref="RunAsync"/> is called concurrently for different replicas.
/// </remarks>
internal interface IInferenceBackend : IDisposable
{
    ModelSignature Signature { get; }

    int ReplicaCount { get; }

    /// <summary>Changes when the replicas are replaced as a whole (a cluster deployment placed again); the scheduler then starts over with them.</summary>
    int Generation => 0;

    /// <summary>Why the model cannot be served now (readiness answers 503 with it); null while it can.</summary>
    string? Unready => null;

    /// <summary>Relative speed of a replica as declared before any run (e.g. a node's "speed"); 1 when all are alike.</summary>
    double DeclaredSpeed(int replica);

    /// <summary>Calls handed to a replica that it has not started yet.</summary>
    int Waiting(int replica);

    /// <summary>The loads of the workers a replica runs on, shared with the other models on them; none in-process.</summary>
    IReadOnlyList<WorkerLoad> WorkerLoads(int replica) => [];

    Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken);
}
