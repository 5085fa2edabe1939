using Tessera.Kernels.Core;

namespace Tessera.Kernels.Pooling;

/// <summary>Registers the Pooling operator family.</summary>
public static class PoolingKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
