using Tessera.Kernels.Core;

namespace Tessera.Kernels.Fused;

/// <summary>Registers Tessera's fused operators that no other family owns (domain com.tessera). Runs last.</summary>
public static class FusedKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
