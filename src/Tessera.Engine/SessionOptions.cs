using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;

namespace Tessera.Engine;

/// <summary>Choices fixed when a session is created (per-call choices would go on the Run call).</summary>
public sealed class SessionOptions
{
    /// <summary>Intra-operator threads; 0 means one per processor.</summary>
    public int Threads { get; init; } = 1;

    public KernelRegistry Registry { get; init; } = KernelRegistry.Default;

    /// <summary>Fold nodes whose inputs are all constant when the session is created.</summary>
    public bool FoldConstants { get; init; } = true;

    /// <summary>Graph rewrites (fusions, foldings) applied to a private copy of the model when the session is created.</summary>
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.All;

    /// <summary>Print every graph rewrite to standard error (as does the environment variable TESSERA_LOG_PASSES=1).</summary>
    public bool LogPasses { get; init; }

    internal int EffectiveThreads => Threads <= 0 ? Environment.ProcessorCount : Threads;
}
