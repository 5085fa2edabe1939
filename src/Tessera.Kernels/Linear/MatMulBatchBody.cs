using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>A range of the batch of a batched MatMul, each product computed whole on the calling thread.</summary>
internal readonly unsafe struct MatMulBatchBody(float* a, float* b, float* y, int[] aOffsets, int[] bOffsets, int m, int n, int k,
    SgemmEpilogue epilogue) : IRangeBody
{
    public void Invoke(int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            Sgemm.Multiply(false, false, m, n, k, 1f, a + aOffsets[i], k, b + bOffsets[i], n, 0f, y + (long)i * m * n, n,
                ParallelRunner.Sequential, epilogue: epilogue);
        }
    }
}
