using System.Numerics.Tensors;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Single-precision GEMM on row-major matrices: C = alpha * op(A) * op(B) + beta * C, where op transposes when asked.
/// BLIS-style blocking (with the roles of A and B swapped because C is row-major): for each Mc x Kc block of op(A),
/// packed once (or taken pre-packed), each Kc x Nc block of op(B) is packed to stay in L2 while every Mr-row A sliver
/// (in L1) sweeps it panel by panel. With B pre-packed, threads take equal shares of the rows and run independently
/// (<see cref="SgemmRowSplit"/>); otherwise they share each packed B block and split its slivers or panels
/// (<see cref="SgemmJob.RunShared"/>). Packing buffers are per-thread scratch (<see cref="SgemmScratch"/>) and the
/// parallel loops run struct bodies, so a call allocates nothing once each thread's scratch has grown.
/// </summary>
internal static unsafe class Sgemm
{
    // Below this many multiply-adds a second thread costs more than it saves.
    private const long ParallelThreshold = 1L << 17;

    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, ParallelRunner parallel, SgemmConfig? config = null,
        SgemmEpilogue epilogue = default)
    {
        var cfg = config ?? SgemmConfig.Current;
        if (SgemmSmall.TryRun(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, cfg.Kc))
        {
            ApplyWhole(epilogue, c, ldc, m, n);
            return;
        }

        Run(new SgemmOperands(a, lda, transA, null, b, ldb, transB, null, alpha), m, n, k, beta, c, ldc, parallel, cfg, epilogue);
    }

    /// <summary>C = alpha * op(A) * packedB (+ beta * C), with op(B) packed at kernel creation.</summary>
    public static void Multiply(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc,
        ParallelRunner parallel, SgemmEpilogue epilogue = default)
    {
        if (m > 0 && m <= SgemmPackedRows.MaxRows && b.K > 0 && (beta == 0f || beta == 1f))
        {
            SgemmPackedRows.Run(transA, m, alpha, a, lda, b, beta, c, ldc, parallel);
            ApplyWhole(epilogue, c, ldc, m, b.N);
            return;
        }

        Run(new SgemmOperands(a, lda, transA, null, null, 0, false, b, alpha), m, b.N, b.K, beta, c, ldc, parallel, b.Config, epilogue);
    }

    /// <summary>C = packedA * op(B) (+ beta * C), with op(A) (and alpha) packed at kernel creation.</summary>
    public static void Multiply(SgemmPackedA a, bool transB, int n, float* b, int ldb, float beta, float* c, int ldc,
        ParallelRunner parallel, SgemmEpilogue epilogue = default)
    {
        Run(new SgemmOperands(null, 0, false, a, b, ldb, transB, null, 1f), a.M, n, a.K, beta, c, ldc, parallel, a.Config, epilogue);
    }

    /// <summary>C = packedA * B (+ beta * C), with B (K x n) produced panel by panel by <paramref name="b"/>.</summary>
    public static void Multiply(SgemmPackedA a, ISgemmBPacker b, int n, float beta, float* c, int ldc, ParallelRunner parallel,
        SgemmEpilogue epilogue = default)
    {
        Run(new SgemmOperands(null, 0, false, a, null, 0, false, null, 1f, b), a.M, n, a.K, beta, c, ldc, parallel, a.Config, epilogue);
    }

    /// <summary>C = A * B (+ beta * C) for a row-major m x k A, with B (k x n) produced panel by panel by <paramref name="b"/>.</summary>
    public static void Multiply(int m, int k, float* a, int lda, ISgemmBPacker b, int n, float beta, float* c, int ldc,
        ParallelRunner parallel, SgemmEpilogue epilogue = default)
    {
        Run(new SgemmOperands(a, lda, false, null, null, 0, false, null, 1f, b), m, n, k, beta, c, ldc, parallel, SgemmConfig.Current, epilogue);
    }

    private static void ApplyWhole(SgemmEpilogue epilogue, float* c, int ldc, int m, int n)
    {
        if (!epilogue.IsNone && m > 0 && n > 0)
        {
            epilogue.Apply(c, ldc, 0, 0, m, n);
        }
    }

    private static void Run(SgemmOperands ops, int m, int n, int k, float beta, float* c, int ldc, ParallelRunner parallel, SgemmConfig cfg,
        SgemmEpilogue epilogue)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        if (k <= 0 || (beta != 0f && beta != 1f))
        {
            ScaleRows(c, ldc, m, n, beta);
            if (k <= 0)
            {
                ApplyWhole(epilogue, c, ldc, m, n);
                return;
            }

            beta = 1f;
        }

        var job = new SgemmJob(ops, cfg, m, n, k, accumulate: beta == 1f, c, ldc, epilogue);
        int degree = (long)m * n * k < ParallelThreshold ? 1 : parallel.Degree;
        int slivers = job.Slivers;
        if (degree == 1)
        {
            job.RunRows(0, m);
        }
        else if (ops.PackedB is not null && slivers >= degree && (slivers % degree == 0 || slivers >= 8 * degree))
        {
            // Weights packed at creation: each thread packs its own rows of A, so the threads share nothing and meet once.
            var rows = new SgemmRowSplit(job);
            parallel.ForRange(slivers, 1, ref rows);
        }
        else
        {
            job.RunShared(parallel);
        }

        GC.KeepAlive(ops.PackedA);
        GC.KeepAlive(ops.PackedB);
        GC.KeepAlive(ops.BPacker);
    }

    internal static void ScaleRows(float* c, int ldc, int m, int n, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else if (beta != 1f)
            {
                TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }
}
