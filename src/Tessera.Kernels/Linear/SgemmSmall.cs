using System.Numerics.Tensors;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Matrix-vector shaped products (a handful of rows or columns), where padding to a full register tile would waste
/// most of the work: these run as rows of axpy or dot products straight from the operands, without packing.
/// </summary>
internal static unsafe class SgemmSmall
{
    private const int MaxThin = 4;
    private const long ParallelThreshold = 1L << 16;

    public static bool TryRun(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, ParallelRunner parallel)
    {
        if (m <= 0 || n <= 0 || k <= 0)
        {
            return false;
        }

        var runner = (long)m * n * k < ParallelThreshold ? ParallelRunner.Sequential : parallel;
        if (m <= MaxThin)
        {
            // Each row of C: op(A) row (gathered when transposed) times op(B), split by columns across threads.
            float* rowsA = a;
            int ldRows = lda;
            if (transA)
            {
                rowsA = SgemmScratch.Get(1, (long)m * k);
                ldRows = k;
                for (int i = 0; i < m; i++)
                {
                    for (int kk = 0; kk < k; kk++)
                    {
                        rowsA[(long)i * k + kk] = a[(long)kk * lda + i];
                    }
                }
            }

            float* ra = rowsA;
            int lr = ldRows;
            var rows = new SgemmThinBody(rowsA: true, m, n, k, alpha, beta, ra, lr, transA, b, ldb, transB, c, ldc);
            runner.ForRange(n, 256, ref rows);
            return true;
        }

        if (n <= MaxThin)
        {
            float* colsB = b;
            int ldCols = ldb;
            if (!transB)
            {
                colsB = SgemmScratch.Get(1, (long)n * k);
                ldCols = k;
                for (int kk = 0; kk < k; kk++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        colsB[(long)j * k + kk] = b[(long)kk * ldb + j];
                    }
                }
            }

            float* cb = colsB;
            int lc = ldCols;
            var columns = new SgemmThinBody(rowsA: false, m, n, k, alpha, beta, a, lda, transA, cb, lc, transB, c, ldc);
            runner.ForRange(m, 64, ref columns);
            return true;
        }

        return false;
    }

    internal static void ThinRows(float* rowsA, int ldRows, bool transB, int m, int j0, int j1, int k, float alpha,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        int width = j1 - j0;
        float* acc = SgemmScratch.Get(0, width);
        var accSpan = new Span<float>(acc, width);
        for (int i = 0; i < m; i++)
        {
            var aRow = new ReadOnlySpan<float>(rowsA + (long)i * ldRows, k);
            if (transB)
            {
                for (int j = 0; j < width; j++)
                {
                    acc[j] = TensorPrimitives.Dot(aRow, new ReadOnlySpan<float>(b + (long)(j0 + j) * ldb, k));
                }
            }
            else
            {
                accSpan.Clear();
                for (int kk = 0; kk < k; kk++)
                {
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (long)kk * ldb + j0, width), aRow[kk], accSpan, accSpan);
                }
            }

            Combine(accSpan, alpha, beta, new Span<float>(c + (long)i * ldc + j0, width));
        }
    }

    internal static void ThinColumns(bool transA, float* a, int lda, int i0, int i1, int n, int k, float alpha,
        float* colsB, int ldCols, float beta, float* c, int ldc)
    {
        int height = i1 - i0;
        float* acc = SgemmScratch.Get(0, height);
        var accSpan = new Span<float>(acc, height);
        for (int j = 0; j < n; j++)
        {
            var bCol = new ReadOnlySpan<float>(colsB + (long)j * ldCols, k);
            if (transA)
            {
                // op(A) column kk is the contiguous row kk of A.
                accSpan.Clear();
                for (int kk = 0; kk < k; kk++)
                {
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(a + (long)kk * lda + i0, height), bCol[kk], accSpan, accSpan);
                }
            }
            else
            {
                for (int i = 0; i < height; i++)
                {
                    acc[i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(a + (long)(i0 + i) * lda, k), bCol);
                }
            }

            for (int i = 0; i < height; i++)
            {
                float* cp = c + (long)(i0 + i) * ldc + j;
                *cp = beta == 0f ? alpha * acc[i] : alpha * acc[i] + beta * *cp;
            }
        }
    }

    private static void Combine(ReadOnlySpan<float> acc, float alpha, float beta, Span<float> c)
    {
        if (beta == 0f)
        {
            TensorPrimitives.Multiply(acc, alpha, c);
        }
        else if (beta == 1f)
        {
            TensorPrimitives.MultiplyAdd(acc, alpha, c, c);
        }
        else
        {
            TensorPrimitives.Multiply(c, beta, c);
            TensorPrimitives.MultiplyAdd(acc, alpha, c, c);
        }
    }
}
