using Tessera.Kernels.Core;

namespace Tessera.Kernels.Layout;

/// <summary>Registers the Layout operator family.</summary>
public static class LayoutKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
