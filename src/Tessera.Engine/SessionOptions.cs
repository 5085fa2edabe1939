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

    internal int EffectiveThreads => Threads <= 0 ? Environment.ProcessorCount : Threads;
}
