using Tessera.Kernels.Core;

namespace Tessera.Kernels.Fused;

/// <summary>Registers Tessera's fused operators that no other family owns (domain com.tessera). Runs last.</summary>
public static class FusedKernels
{
    public static void Register(KernelRegistry registry)
    {
        registry.Register(TesseraDomain.Name, "Gelu", 1, GeluKernel.Create);
        registry.Register("Gelu", 20, GeluKernel.Create);
        registry.Register(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, ScaleMaskSoftmaxKernel.Create);

        // Graph passes emit these for models whose default opset predates the standard operator; the kernel is the standard one.
        Alias(registry, "LayerNormalization", 17);
        Alias(registry, "HardSwish", 14);
    }

    private static void Alias(KernelRegistry registry, string opType, int standardVersion)
    {
        if (registry.TryResolve(string.Empty, opType, standardVersion, out var factory))
        {
            registry.Register(TesseraDomain.Name, opType, 1, factory);
        }
    }
}
