using System.Numerics.Tensors;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Single-precision GEMM on row-major matrices: C = alpha * op(A) * op(B) + beta * C, where op transposes when asked.
/// BLIS-style: for each (Nc, Kc) block of op(B) the block is packed once (or taken pre-packed), then the threads
/// split the C block statically, each packing its Mc x Kc blocks of op(A) and sweeping Mr x Nr register tiles.
/// </summary>
internal static unsafe class Sgemm
{
    // Below this many multiply-adds a second thread costs more than it saves.
    private const long ParallelThreshold = 1L << 17;

    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, ParallelRunner parallel, SgemmConfig? config = null)
    {
        var cfg = config ?? SgemmConfig.Current;
        if (SgemmSmall.TryRun(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel))
        {
            return;
        }

        Run(new Operand(a, lda, transA, null), new Operand(b, ldb, transB, null), null, m, n, k, alpha, beta, c, ldc, parallel, cfg);
    }

    /// <summary>C = op(A) * packedB (+ beta * C), with op(B) packed at kernel creation.</summary>
    public static void Multiply(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc,
        ParallelRunner parallel)
    {
        Run(new Operand(a, lda, transA, null), default, b, m, b.N, b.K, alpha, beta, c, ldc, parallel, b.Config);
    }

    /// <summary>C = packedA * op(B) (+ beta * C), with op(A) (and alpha) packed at kernel creation.</summary>
    public static void Multiply(SgemmPackedA a, bool transB, int n, float* b, int ldb, float beta, float* c, int ldc,
        ParallelRunner parallel)
    {
        Run(new Operand(null, 0, false, a), new Operand(b, ldb, transB, null), null, a.M, n, a.K, 1f, beta, c, ldc, parallel, a.Config);
    }

    private static void Run(Operand a, Operand b, SgemmPackedB? packedB, int m, int n, int k, float alpha, float beta,
        float* c, int ldc, ParallelRunner parallel, SgemmConfig cfg)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        if (k <= 0 || (beta != 0f && beta != 1f))
        {
            ScaleRows(c, ldc, m, n, k <= 0 ? beta : beta);
            if (k <= 0)
            {
                return;
            }

            beta = 1f;
        }

        int degree = (long)m * n * k < ParallelThreshold ? 1 : parallel.Degree;
        int mr = cfg.Mr, nr = cfg.Nr;
        int slivers = (m + mr - 1) / mr;

        // Split rows across threads when each gets a few slivers; otherwise split the columns.
        int threadsM = slivers >= 4 * degree ? degree : 1;
        int threadsN = degree / threadsM;
        var runner = degree == parallel.Degree ? parallel : ParallelRunner.Sequential;

        for (int jc = 0; jc < n; jc += cfg.Nc)
        {
            int nc = Math.Min(cfg.Nc, n - jc);
            int panels = (nc + nr - 1) / nr;
            int tn = Math.Min(threadsN, panels);
            int tasks = threadsM * tn;
            for (int pc = 0; pc < k; pc += cfg.Kc)
            {
                int kc = Math.Min(cfg.Kc, k - pc);
                bool accumulate = pc > 0 || beta == 1f;
                float* bBlock;
                if (packedB is not null)
                {
                    bBlock = packedB.Block(pc, jc);
                }
                else
                {
                    bBlock = SgemmScratch.Get(1, (long)panels * nr * kc);
                    float* bb = bBlock;
                    var bo = b;
                    int pcc = pc, jcc = jc, ncc = nc;
                    if (tasks > 1 && panels > 1)
                    {
                        runner.ForRange(panels, 1, (p0, p1) => SgemmPacking.PackB(bo.Data, bo.Ld, bo.Trans, jcc, ncc, pcc, kc, nr, p0, p1, bb));
                    }
                    else
                    {
                        SgemmPacking.PackB(b.Data, b.Ld, b.Trans, jc, nc, pc, kc, nr, 0, panels, bBlock);
                    }
                }

                if (tasks == 1)
                {
                    Macro(a, bBlock, 0, slivers, 0, panels, jc, nc, pc, kc, m, alpha, accumulate, c, ldc, cfg);
                }
                else
                {
                    float* bb = bBlock;
                    var ao = a;
                    int jcc = jc, ncc = nc, pcc = pc, tnn = tn;
                    runner.For(tasks, t =>
                    {
                        int tm = t / tnn, tp = t % tnn;
                        int s0 = (int)((long)slivers * tm / threadsM), s1 = (int)((long)slivers * (tm + 1) / threadsM);
                        int p0 = (int)((long)panels * tp / tnn), p1 = (int)((long)panels * (tp + 1) / tnn);
                        Macro(ao, bb, s0, s1, p0, p1, jcc, ncc, pcc, kc, m, alpha, accumulate, c, ldc, cfg);
                    });
                }
            }
        }

        GC.KeepAlive(packedB);
        GC.KeepAlive(a.Packed);
    }

    /// <summary>Slivers [s0, s1) of rows times panels [p0, p1) of the packed B block, in Mc-row chunks.</summary>
    private static void Macro(Operand a, float* bBlock, int s0, int s1, int p0, int p1, int jc, int nc, int pc, int kc, int m,
        float alpha, bool accumulate, float* c, int ldc, SgemmConfig cfg)
    {
        int mr = cfg.Mr, nr = cfg.Nr;
        int mcSlivers = cfg.Mc / mr;
        float* edge = stackalloc float[mr * nr];
        for (int s = s0; s < s1; s += mcSlivers)
        {
            int ic = s * mr;
            int mc = Math.Min(Math.Min(s1 - s, mcSlivers) * mr, m - ic);
            float* aBlock;
            if (a.Packed is not null)
            {
                aBlock = a.Packed.Block(ic, pc);
            }
            else
            {
                aBlock = SgemmScratch.Get(0, (long)((mc + mr - 1) / mr) * mr * kc);
                SgemmPacking.PackA(a.Data, a.Ld, a.Trans, ic, mc, pc, kc, alpha, mr, aBlock);
            }

            for (int p = p0; p < p1; p++)
            {
                int j = p * nr;
                int cols = Math.Min(nr, nc - j);
                float* bp = bBlock + (long)p * nr * kc;
                float* cRow = c + (long)ic * ldc + jc + j;
                for (int i = 0; i < mc; i += mr)
                {
                    int rows = Math.Min(mr, mc - i);
                    float* ap = aBlock + (long)i * kc;
                    float* cp = cRow + (long)i * ldc;
                    if (rows == mr && cols == nr)
                    {
                        cfg.Kernel(ap, bp, cp, ldc, kc, accumulate);
                    }
                    else
                    {
                        cfg.Kernel(ap, bp, edge, nr, kc, accumulate: false);
                        StoreEdge(edge, nr, cp, ldc, rows, cols, accumulate);
                    }
                }
            }
        }
    }

    private static void StoreEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            var src = new ReadOnlySpan<float>(tile + r * nr, cols);
            var dst = new Span<float>(c + (long)r * ldc, cols);
            if (accumulate)
            {
                TensorPrimitives.Add(src, dst, dst);
            }
            else
            {
                src.CopyTo(dst);
            }
        }
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

    private readonly struct Operand(float* data, int ld, bool trans, SgemmPackedA? packed)
    {
        public float* Data { get; } = data;

        public int Ld { get; } = ld;

        public bool Trans { get; } = trans;

        public SgemmPackedA? Packed { get; } = packed;
    }
}
