using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// GEMM for element types without a packed kernel (float64 and integers): row-by-row axpy over contiguous rows of
/// op(B), vectorised by TensorPrimitives, rows split across threads. C = alpha * op(A) * op(B) + beta * C, where
/// beta == 0 ignores C's previous contents.
/// </summary>
internal static unsafe class GenericGemm<T>
    where T : unmanaged, INumber<T>
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb,
        T beta, T* c, int ldc, ParallelRunner parallel)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        T[]? transposed = null;
        if (transB && k > 0)
        {
            // Rows of op(B) must be contiguous for the axpy; transpose once.
            transposed = GC.AllocateUninitializedArray<T>(checked(k * n), pinned: true);
            fixed (T* t = transposed)
            {
                for (int j = 0; j < n; j++)
                {
                    for (int kk = 0; kk < k; kk++)
                    {
                        t[(long)kk * n + j] = b[(long)j * ldb + kk];
                    }
                }
            }
        }

        fixed (T* t = transposed)
        {
            T* rowsB = transposed is null ? b : t;
            int ldRows = transposed is null ? ldb : n;
            var runner = (long)m * n * k < (1L << 16) ? ParallelRunner.Sequential : parallel;
            runner.ForRange(m, 4, (i0, i1) => Rows(transA, i0, i1, n, k, alpha, a, lda, rowsB, ldRows, beta, c, ldc));
        }
    }

    private static void Rows(bool transA, int i0, int i1, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
    {
        var acc = new T[n];
        for (int i = i0; i < i1; i++)
        {
            Array.Clear(acc);
            for (int kk = 0; kk < k; kk++)
            {
                T s = transA ? a[(long)kk * lda + i] : a[(long)i * lda + kk];
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(b + (long)kk * ldb, n), s, acc, acc);
            }

            var row = new Span<T>(c + (long)i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                T v = alpha == T.One ? acc[j] : alpha * acc[j];
                row[j] = beta == T.Zero ? v : v + beta * row[j];
            }
        }
    }
}
