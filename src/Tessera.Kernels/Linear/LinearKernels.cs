using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>Registers the Linear operator family and its fused forms in Tessera's domain.</summary>
public static class LinearKernels
{
    public static void Register(KernelRegistry registry)
    {
        // MatMul's semantics are unchanged across versions 1, 9 and 13 (only the type list grew).
        registry.Register("MatMul", 1, info => new MatMulKernel(info));

        // Gemm 7 introduced unidirectional broadcasting of C; 11 made C optional (checked from the opset).
        registry.Register("Gemm", 7, info => new GemmKernel(info));

        // The kernels read `activation`/`activation_params` (and FusedMatMul's bias input 2) when the node is in Tessera's domain.
        registry.Register(TesseraDomain.Name, "FusedGemm", TesseraDomain.Version, info => new GemmKernel(info));
        registry.Register(TesseraDomain.Name, "FusedMatMul", TesseraDomain.Version, info => new MatMulKernel(info));
    }
}
