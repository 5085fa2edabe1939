using Tessera.Engine.Optimization;
using Tessera.Kernels.Collective;
using Tessera.Kernels.Core;

namespace Tessera.Engine;

/// <summary>Choices fixed when a session is created (per-call choices would go on the Run call).</summary>
public sealed class SessionOptions
{
    private ICollectiveCommunicator? _communicator;

    /// <summary>Intra-operator threads; 0 means one per processor.</summary>
    public int Threads { get; init; } = 1;

    public KernelRegistry Registry { get; init; } = KernelRegistry.Default;

    /// <summary>Fold nodes whose inputs are all constant when the session is created.</summary>
    public bool FoldConstants { get; init; } = true;

    /// <summary>Graph rewrites (fusions, foldings) applied to a private copy of the model when the session is created.</summary>
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.All;

    /// <summary>
    /// Names of graph passes to skip (as `tessera inspect` lists them; also the environment variable
    /// TESSERA_DISABLE_PASSES, comma-separated): for A/B measurements and for tests comparing a rewrite's outputs with
    /// the graph without it.
    /// </summary>
    public IReadOnlyCollection<string> DisabledPasses { get; init; } = [];

    /// <summary>Print every graph rewrite to standard error (as does the environment variable TESSERA_LOG_PASSES=1).</summary>
    public bool LogPasses { get; init; }

    /// <summary>
    /// This session's link to the other ranks of a tensor-parallel group, handed to the kernels of the collective
    /// operators (com.tessera AllReduce, AllGather); null for a session that runs alone.
    /// </summary>
    public ICollectiveCommunicator? Communicator { get => _communicator; init => _communicator = value; }

    /// <summary>A copy of these options with <see cref="Communicator"/> replaced (one per rank of a group).</summary>
    public SessionOptions WithCommunicator(ICollectiveCommunicator? communicator)
    {
        var copy = (SessionOptions)MemberwiseClone();
        copy._communicator = communicator;
        return copy;
    }

    internal int EffectiveThreads => Threads <= 0 ? Environment.ProcessorCount : Threads;
}
