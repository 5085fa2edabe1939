using Tessera.Kernels.Core;
using Tessera.Kernels.Elementwise;

namespace Tessera.Kernels.Fused;

/// <summary>Gelu (ONNX opset 20, and com.tessera's for older models): picks the exact or tanh form from `approximate`.</summary>
internal static class GeluKernel
{
    public static IKernel Create(KernelInfo info) => info.GetString("approximate", "none") switch
    {
        "none" => new FloatUnaryKernel<GeluOperator>("Gelu", default, UnaryDriver.CostlyChunk),
        "tanh" => new FloatUnaryKernel<GeluTanhOperator>("Gelu", default, UnaryDriver.CostlyChunk),
        var other => throw new KernelException($"Gelu: approximate must be 'none' or 'tanh', got '{other}'"),
    };
}
