namespace Tessera.Kernels.Linear;

/// <summary>
/// The inputs of one SGEMM call: A as a matrix (possibly transposed) or pre-packed, B as a matrix, pre-packed or
/// produced panel by panel by a packer, and the alpha that packing A applies.
/// </summary>
internal readonly unsafe struct SgemmOperands(float* a, int lda, bool transA, SgemmPackedA? packedA, float* b, int ldb, bool transB,
    SgemmPackedB? packedB, float alpha, ISgemmBPacker? bPacker = null)
{
    public ISgemmBPacker? BPacker { get; } = bPacker;

    public float* A { get; } = a;

    public int Lda { get; } = lda;

    public bool TransA { get; } = transA;

    public SgemmPackedA? PackedA { get; } = packedA;

    public float* B { get; } = b;

    public int Ldb { get; } = ldb;

    public bool TransB { get; } = transB;

    public SgemmPackedB? PackedB { get; } = packedB;

    public float Alpha { get; } = alpha;
}
