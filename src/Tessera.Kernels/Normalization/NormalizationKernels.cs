using Tessera.Kernels.Core;

namespace Tessera.Kernels.Normalization;

/// <summary>Registers the Normalization operator family.</summary>
public static class NormalizationKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
