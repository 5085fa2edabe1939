using Tessera.Kernels.Core;

namespace Tessera.Kernels.Convolution;

/// <summary>Registers the Convolution operator family.</summary>
public static class ConvolutionKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
