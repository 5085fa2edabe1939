namespace Tessera.Kernels.Core;

/// <summary>
/// The operator domain of Tessera's own fused operators, which graph passes produce and only Tessera runs:
/// FusedConv, FusedGemm, FusedMatMul (each with an `activation` string attribute and `activation_params`
/// floats), Gelu (`approximate` = "none" | "tanh", as ONNX opset 20) and LayerNormalization (as ONNX opset 17);
/// the collectives AllReduce and AllGather of tensor-parallel shards (see Collective.CollectiveKernels); and the
/// quantized products QuantizedMatMul and QuantizedConv (float in and out on the integer GEMM, see Quantization).
/// </summary>
public static class TesseraDomain
{
    public const string Name = "com.tessera";

    public const int Version = 1;
}
