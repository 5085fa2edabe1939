using Tessera.Kernels.Core;

namespace Tessera.Kernels.Elementwise;

/// <summary>Registers the Elementwise operator family.</summary>
public static class ElementwiseKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
