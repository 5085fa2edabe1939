using Tessera.Kernels.Core;

namespace Tessera.Kernels.Resize;

/// <summary>Registers the Resize operator family.</summary>
public static class ResizeKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
