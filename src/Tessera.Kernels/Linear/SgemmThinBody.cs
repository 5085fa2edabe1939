using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// A parallel loop of <see cref="SgemmSmall"/>: over columns of C for a few rows of A (<paramref name="rowsA"/>, with A
/// already gathered into rows), or over rows of C for a few columns of B (B already gathered into columns).
/// </summary>
internal readonly unsafe struct SgemmThinBody(bool rowsA, int m, int n, int k, int kc, float alpha, float beta, float* a, int lda, bool transA,
    float* b, int ldb, bool transB, float* c, int ldc) : IRangeBody
{
    public void Invoke(int start, int end)
    {
        if (rowsA)
        {
            SgemmSmall.ThinRows(a, lda, transB, m, start, end, k, kc, alpha, b, ldb, beta, c, ldc);
        }
        else
        {
            SgemmSmall.ThinColumns(transA, a, lda, start, end, n, k, kc, alpha, b, ldb, beta, c, ldc);
        }
    }
}
