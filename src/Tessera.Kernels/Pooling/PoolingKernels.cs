using Tessera.Kernels.Core;

namespace Tessera.Kernels.Pooling;

/// <summary>Registers the Pooling operator family.</summary>
public static class PoolingKernels
{
    public static void Register(KernelRegistry registry)
    {
        // One kernel per operator reads the model opset to tell versions apart; each since-version is listed so
        // resolution and `tessera inspect` reflect the versions supported.
        foreach (int version in (int[])[1, 7, 10, 11, 19])
        {
            registry.Register("AveragePool", version, info => new AveragePoolKernel(info));
        }

        foreach (int version in (int[])[1, 8, 10, 11, 12])
        {
            registry.Register("MaxPool", version, info => new MaxPoolKernel(info));
        }

        registry.Register("GlobalAveragePool", 1, _ => new GlobalPoolKernel(max: false));
        registry.Register("GlobalMaxPool", 1, _ => new GlobalPoolKernel(max: true));
    }
}
