using Tessera.Kernels.Core;

namespace Tessera.Kernels.Reduction;

/// <summary>Registers the Reduction operator family.</summary>
public static class ReductionKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
