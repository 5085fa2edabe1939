using Tessera.Kernels.Core;

namespace Tessera.Kernels.Convolution;

/// <summary>Registers the Convolution operator family.</summary>
public static class ConvolutionKernels
{
    public static void Register(KernelRegistry registry)
    {
        // Conv 1 and 11 compute the same thing (11 only clarified defaults); one kernel serves both.
        registry.Register("Conv", 1, info => new ConvKernel(info));
        registry.Register("ConvTranspose", 1, info => new ConvTransposeKernel(info));

        // Conv plus `activation`/`activation_params`, produced by Tessera's graph passes.
        registry.Register(TesseraDomain.Name, "FusedConv", TesseraDomain.Version, info => new ConvKernel(info));
    }
}
