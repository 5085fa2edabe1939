using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>Registers the Linear operator family.</summary>
public static class LinearKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
