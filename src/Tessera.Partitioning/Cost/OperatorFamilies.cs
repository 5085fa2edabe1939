namespace Tessera.Partitioning.Cost;

/// <summary>Which family an operator belongs to (domain com.tessera included).</summary>
internal static class OperatorFamilies
{
    private static readonly HashSet<string> s_movement = new(StringComparer.Ordinal)
    {
        "Transpose", "Concat", "Slice", "Gather", "GatherElements", "GatherND", "Split", "Pad", "Expand",
        "Tile", "Cast", "DepthToSpace", "SpaceToDepth",
        "ScatterND", "ScatterElements", "Resize", "Upsample", "ConstantOfShape", "Range", "Where", "Trilu",
    };

    public static OperatorFamily Of(string opType) => opType switch
    {
        "MatMul" or "Gemm" or "FusedGemm" or "FusedMatMul" or "MatMulInteger" or "QLinearMatMul" or "QuantizedMatMul" or "Einsum" => OperatorFamily.MatrixProduct,
        "Conv" or "ConvTranspose" or "FusedConv" or "ConvInteger" or "QLinearConv" or "QuantizedConv" => OperatorFamily.Convolution,
        // Views of their input (ReshapeKernel, SqueezeKernel, UnsqueezeKernel, FlattenKernel, IdentityKernel) and shape reads.
        "Reshape" or "Squeeze" or "Unsqueeze" or "Flatten" or "Identity" or "Shape" or "Size" => OperatorFamily.Metadata,
        _ when s_movement.Contains(opType) => OperatorFamily.DataMovement,
        _ => OperatorFamily.Elementwise,
    };

    public static string Name(OperatorFamily family) => family switch
    {
        OperatorFamily.MatrixProduct => "matrixProduct",
        OperatorFamily.Convolution => "convolution",
        OperatorFamily.Elementwise => "elementwise",
        OperatorFamily.DataMovement => "dataMovement",
        OperatorFamily.Metadata => "metadata",
        _ => family.ToString(),
    };
}
