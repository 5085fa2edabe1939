namespace Tessera.Engine.Optimization;

/// <summary>Which graph rewrites run when a session is created.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>Run the graph as written.</summary>
    None = 0,

    /// <summary>Rewrites into standard ONNX operators only: Identity/Dropout removal, Conv+BatchNormalization/Mul/Add folding, MatMul+Add → Gemm.</summary>
    Basic = 1,

    /// <summary>Also fusions into Tessera's own operators (domain com.tessera): GELU, LayerNormalization, fused activations.</summary>
    All = 2,
}
