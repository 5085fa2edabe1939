namespace Tessera.Partitioning.Cost;

/// <summary>
/// Groups of operators that run at a similar rate on one machine; calibration measures one rate per family.
/// Matrix products and convolutions are timed by FLOPs, the others by the bytes they read and write.
/// The numbers are written to calibration files, so they are only appended to.
/// </summary>
public enum OperatorFamily
{
    /// <summary>MatMul, Gemm and their fused forms: FLOP-bound.</summary>
    MatrixProduct = 0,

    /// <summary>Conv, ConvTranspose, FusedConv: FLOP-bound.</summary>
    Convolution = 1,

    /// <summary>Arithmetic, activations, normalisation, reductions, pooling: bound by bytes moved.</summary>
    Elementwise = 2,

    /// <summary>Pure data movement (Transpose, Concat, Gather, Slice...): bound by bytes moved.</summary>
    DataMovement = 3,

    /// <summary>
    /// Reshape, Squeeze, Unsqueeze, Flatten, Identity (the engine returns a view of the input) and Shape, Size (they
    /// read only the shape): no bytes move, so only the fixed cost per node counts.
    /// </summary>
    Metadata = 4,
}
