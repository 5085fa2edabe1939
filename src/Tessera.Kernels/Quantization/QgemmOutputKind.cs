namespace Tessera.Kernels.Quantization;

/// <summary>What the integer GEMM's epilogue writes for each exact int32 sum.</summary>
internal enum QgemmOutputKind
{
    /// <summary>The sum itself (MatMulInteger, ConvInteger).</summary>
    Int32,

    /// <summary>saturate(round((sum + bias) * multiplier) + zero point) as uint8 or int8 (QLinearMatMul, QLinearConv).</summary>
    Requantize,

    /// <summary>sum * scale + bias as float32 (a dequantized product: the fused dynamic and QDQ kernels).</summary>
    Float,
}
