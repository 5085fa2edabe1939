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
        float* b, int ldb, float beta, float* c, int ldc, ParallelRunner parallel, int kc)
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
            var rows = new SgemmThinBody(rowsA: true, m, n, k, kc, alpha, beta, ra, lr, transA, b, ldb, transB, c, ldc);
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
            var columns = new SgemmThinBody(rowsA: false, m, n, k, kc, alpha, beta, a, lda, transA, cb, lc, transB, c, ldc);
            runner.ForRange(m, 64, ref columns);
            return true;
        }

        return false;
    }

    // Every element of C is summed exactly as the blocked kernel sums it (SgemmJob, SgemmStep): depth in blocks of
    // kc from 0, each block a fresh fused multiply-add chain in depth order (alpha folded into A's value first, as
    // packing does), the first block stored (beta 0) and each later one added to C. So a row of C has the same bits
    // whichever path its call takes, which is what makes a batch split across replicas match the whole batch.
    internal static void ThinRows(float* rowsA, int ldRows, bool transB, int m, int j0, int j1, int k, int kc, float alpha,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        int width = j1 - j0;
        var acc = new Span<float>(SgemmScratch.Get(0, width), width);
        // transB: the block of B's rows [j0, j1) is gathered depth-major once per depth block, shared by the rows of A.
        float* gathered = transB ? SgemmScratch.Get(2, (long)Math.Min(kc, k) * width) : null;
        for (int i = 0; i < m; i++)
        {
            PrepareBeta(new Span<float>(c + (long)i * ldc + j0, width), beta);
        }

        for (int pc = 0; pc < k; pc += kc)
        {
            int depth = Math.Min(kc, k - pc);
            float* block = b + (long)pc * ldb + j0;
            long stride = ldb;
            if (transB)
            {
                for (int kk = 0; kk < depth; kk++)
                {
                    for (int j = 0; j < width; j++)
                    {
                        gathered[(long)kk * width + j] = b[(long)(j0 + j) * ldb + pc + kk];
                    }
                }

                block = gathered;
                stride = width;
            }

            for (int i = 0; i < m; i++)
            {
                float* aRow = rowsA + (long)i * ldRows + pc;
                acc.Clear();
                for (int kk = 0; kk < depth; kk++)
                {
                    TensorPrimitives.MultiplyAddEstimate(new ReadOnlySpan<float>(block + kk * stride, width), alpha * aRow[kk], acc, acc);
                }

                Store(acc, new Span<float>(c + (long)i * ldc + j0, width), add: pc > 0 || beta != 0f);
            }
        }
    }

    internal static void ThinColumns(bool transA, float* a, int lda, int i0, int i1, int n, int k, int kc, float alpha,
        float* colsB, int ldCols, float beta, float* c, int ldc)
    {
        int height = i1 - i0;
        var acc = new Span<float>(SgemmScratch.Get(0, height), height);
        float* gathered = transA ? null : SgemmScratch.Get(2, (long)Math.Min(kc, k) * height);
        for (int i = 0; i < height; i++)
        {
            PrepareBeta(new Span<float>(c + (long)(i0 + i) * ldc, n), beta);
        }

        for (int pc = 0; pc < k; pc += kc)
        {
            int depth = Math.Min(kc, k - pc);
            // op(A)'s column kk as a contiguous run over the rows [i0, i1): a row of A when transposed, else gathered.
            float* block = a + (long)pc * lda + i0;
            long stride = lda;
            if (!transA)
            {
                for (int i = 0; i < height; i++)
                {
                    float* row = a + (long)(i0 + i) * lda + pc;
                    for (int kk = 0; kk < depth; kk++)
                    {
                        gathered[(long)kk * height + i] = alpha * row[kk];
                    }
                }

                block = gathered;
                stride = height;
            }

            for (int j = 0; j < n; j++)
            {
                float* bCol = colsB + (long)j * ldCols + pc;
                acc.Clear();
                for (int kk = 0; kk < depth; kk++)
                {
                    var column = new ReadOnlySpan<float>(block + kk * stride, height);
                    if (transA && alpha != 1f)
                    {
                        // alpha belongs to A's element (rounded first), as packing applies it; rare, so scalar.
                        for (int i = 0; i < height; i++) acc[i] = float.MultiplyAddEstimate(alpha * column[i], bCol[kk], acc[i]);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAddEstimate(column, bCol[kk], acc, acc);
                    }
                }

                bool add = pc > 0 || beta != 0f;
                for (int i = 0; i < height; i++)
                {
                    float* cp = c + (long)(i0 + i) * ldc + j;
                    *cp = add ? *cp + acc[i] : acc[i];
                }
            }
        }
    }

    /// <summary>beta other than 0 and 1 scales C first, as the blocked path does before accumulating onto it.</summary>
    private static void PrepareBeta(Span<float> c, float beta)
    {
        if (beta != 0f && beta != 1f)
        {
            TensorPrimitives.Multiply(c, beta, c);
        }
    }

    private static void Store(ReadOnlySpan<float> acc, Span<float> c, bool add)
    {
        if (add)
        {
            TensorPrimitives.Add(c, acc, c);
        }
        else
        {
            acc.CopyTo(c);
        }
    }
}
