using Tessera.Kernels.Core;

namespace Tessera.Kernels.Normalization;

/// <summary>Registers the Normalization operator family.</summary>
public static class NormalizationKernels
{
    public static void Register(KernelRegistry registry)
    {
        // Each kernel reads the model opset for version differences; every since-version is listed for resolution.
        foreach (int version in (int[])[7, 9, 14, 15])
        {
            registry.Register("BatchNormalization", version, info => new BatchNormalizationKernel(info));
        }

        registry.Register("InstanceNormalization", 6, info => new InstanceNormalizationKernel(info));
        registry.Register("LayerNormalization", 17, info => new LayerNormalizationKernel(info));
    }
}
