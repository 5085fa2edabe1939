namespace Tessera.Kernels.Core;

/// <summary>
/// The operator domain of Tessera's own fused operators, which graph passes produce and only Tessera runs:
/// FusedConv, FusedGemm, FusedMatMul (each with an `activation` string attribute and `activation_params`
/// floats), Gelu (`approximate` = "none" | "tanh", as ONNX opset 20) and LayerNormalization (as ONNX opset 17);
/// and the collectives AllReduce and AllGather of tensor-parallel shards (see Collective.CollectiveKernels).
/// </summary>
public static class TesseraDomain
{
    public const string Name = "com.tessera";

    public const int Version = 1;
}
