using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Single-precision GEMM on row-major matrices: C = alpha * op(A) * op(B) + beta * C, where op transposes when asked.
/// BLIS-style blocking (with the roles of A and B swapped because C is row-major): for each Mc x Kc block of op(A),
/// packed once (or taken pre-packed), each Kc x Nc block of op(B) is packed to stay in L2 while every Mr-row A sliver
/// (in L1) sweeps it panel by panel. Threads split the slivers (or, for short A, the panels) statically.
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
        if (SgemmSmall.TryRun(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel))
        {
            ApplyWhole(epilogue, c, ldc, m, n);
            return;
        }

        Run(new Operands(a, lda, transA, null, b, ldb, transB, null, alpha), m, n, k, beta, c, ldc, parallel, cfg, epilogue);
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

        Run(new Operands(a, lda, transA, null, null, 0, false, b, alpha), m, b.N, b.K, beta, c, ldc, parallel, b.Config, epilogue);
    }

    /// <summary>C = packedA * op(B) (+ beta * C), with op(A) (and alpha) packed at kernel creation.</summary>
    public static void Multiply(SgemmPackedA a, bool transB, int n, float* b, int ldb, float beta, float* c, int ldc,
        ParallelRunner parallel, SgemmEpilogue epilogue = default)
    {
        Run(new Operands(null, 0, false, a, b, ldb, transB, null, 1f), a.M, n, a.K, beta, c, ldc, parallel, a.Config, epilogue);
    }

    /// <summary>C = packedA * B (+ beta * C), with B (K x n) produced panel by panel by <paramref name="b"/>.</summary>
    public static void Multiply(SgemmPackedA a, ISgemmBPacker b, int n, float beta, float* c, int ldc, ParallelRunner parallel,
        SgemmEpilogue epilogue = default)
    {
        Run(new Operands(null, 0, false, a, null, 0, false, null, 1f, b), a.M, n, a.K, beta, c, ldc, parallel, a.Config, epilogue);
    }

    /// <summary>C = A * B (+ beta * C) for a row-major m x k A, with B (k x n) produced panel by panel by <paramref name="b"/>.</summary>
    public static void Multiply(int m, int k, float* a, int lda, ISgemmBPacker b, int n, float beta, float* c, int ldc,
        ParallelRunner parallel, SgemmEpilogue epilogue = default)
    {
        Run(new Operands(a, lda, false, null, null, 0, false, null, 1f, b), m, n, k, beta, c, ldc, parallel, SgemmConfig.Current, epilogue);
    }

    private static void ApplyWhole(SgemmEpilogue epilogue, float* c, int ldc, int m, int n)
    {
        if (!epilogue.IsNone && m > 0 && n > 0)
        {
            epilogue.Apply(c, ldc, 0, 0, m, n);
        }
    }

    private static void Run(Operands ops, int m, int n, int k, float beta, float* c, int ldc, ParallelRunner parallel, SgemmConfig cfg,
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

        int degree = (long)m * n * k < ParallelThreshold ? 1 : parallel.Degree;
        var runner = degree == parallel.Degree ? parallel : ParallelRunner.Sequential;
        int mr = cfg.Mr, nr = cfg.Nr;
        for (int ic = 0; ic < m; ic += cfg.Mc)
        {
            int mc = Math.Min(cfg.Mc, m - ic);
            int slivers = (mc + mr - 1) / mr;

            // Split A slivers across threads when they divide evenly (or are many); otherwise split the B panels, so a
            // 64-row convolution GEMM (5 slivers) does not leave one thread with 60% of the work.
            int blockPanels = (Math.Min(cfg.Nc, n) + nr - 1) / nr;
            bool evenM = slivers % degree == 0 || slivers >= 8 * degree;
            int threadsM = (slivers >= degree && evenM) || (slivers >= 2 * degree && blockPanels < 2 * degree) ? degree : 1;
            for (int pc = 0; pc < k; pc += cfg.Kc)
            {
                int kc = Math.Min(cfg.Kc, k - pc);
                var step = new Step(ops, cfg, c, ldc, ic, mc, pc, kc, alpha: ops.Alpha, accumulate: pc > 0 || beta == 1f,
                    pc + kc >= k ? epilogue : default);
                float* aBlock;
                if (ops.PackedA is not null)
                {
                    aBlock = ops.PackedA.Block(ic, pc);
                }
                else
                {
                    aBlock = SgemmScratch.Get(0, (long)slivers * mr * kc);
                    if (threadsM == 1)
                    {
                        step.PackA(aBlock, 0, slivers);
                    }
                }

                for (int jc = 0; jc < n; jc += cfg.Nc)
                {
                    int nc = Math.Min(cfg.Nc, n - jc);
                    int panels = (nc + nr - 1) / nr;
                    float* bBlock;
                    if (ops.PackedB is not null)
                    {
                        bBlock = ops.PackedB.Block(pc, jc);
                    }
                    else
                    {
                        bBlock = SgemmScratch.Get(1, (long)panels * nr * kc);
                        float* bb = bBlock;
                        int jcc = jc, ncc = nc;
                        if (degree > 1 && panels > 1)
                        {
                            runner.ForRange(panels, 1, (p0, p1) => step.PackB(bb, jcc, ncc, p0, p1));
                        }
                        else
                        {
                            step.PackB(bBlock, jc, nc, 0, panels);
                        }
                    }

                    // The first B block of each depth step also packs each thread's own A slivers.
                    bool packA = threadsM > 1 && jc == 0 && ops.PackedA is null;
                    int tasks = threadsM > 1 ? threadsM : Math.Min(degree, panels);
                    if (tasks == 1)
                    {
                        step.Compute(aBlock, bBlock, jc, nc, 0, slivers, 0, panels);
                        continue;
                    }

                    float* ab = aBlock, bb2 = bBlock;
                    int jc2 = jc, nc2 = nc, tm = threadsM;
                    runner.For(tasks, t =>
                    {
                        if (tm > 1)
                        {
                            int s0 = (int)((long)slivers * t / tasks), s1 = (int)((long)slivers * (t + 1) / tasks);
                            if (packA)
                            {
                                step.PackA(ab, s0, s1);
                            }

                            step.Compute(ab, bb2, jc2, nc2, s0, s1, 0, panels);
                        }
                        else
                        {
                            int p0 = (int)((long)panels * t / tasks), p1 = (int)((long)panels * (t + 1) / tasks);
                            step.Compute(ab, bb2, jc2, nc2, 0, slivers, p0, p1);
                        }
                    });
                }
            }
        }

        GC.KeepAlive(ops.PackedA);
        GC.KeepAlive(ops.PackedB);
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

    private readonly struct Operands(float* a, int lda, bool transA, SgemmPackedA? packedA, float* b, int ldb, bool transB,
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

    /// <summary>One (Mc rows, Kc depth) step of the blocked product: packing and the register-tile sweep.</summary>
    private readonly struct Step(Operands ops, SgemmConfig cfg, float* c, int ldc, int ic, int mc, int pc, int kc, float alpha, bool accumulate,
        SgemmEpilogue epilogue)
    {
        /// <summary>Packs slivers [s0, s1) of this step's A block.</summary>
        public void PackA(float* aBlock, int s0, int s1)
        {
            int rows = Math.Min(s1 * cfg.Mr, mc) - s0 * cfg.Mr;
            if (rows > 0)
            {
                SgemmPacking.PackA(ops.A, ops.Lda, ops.TransA, ic + s0 * cfg.Mr, rows, pc, kc, alpha, cfg.Mr, aBlock + (long)s0 * cfg.Mr * kc);
            }
        }

        public void PackB(float* bBlock, int jc, int nc, int p0, int p1)
        {
            if (ops.BPacker is not null)
            {
                ops.BPacker.Pack(pc, kc, jc, nc, p0, p1, cfg.Nr, bBlock);
            }
            else
            {
                SgemmPacking.PackB(ops.B, ops.Ldb, ops.TransB, jc, nc, pc, kc, cfg.Nr, p0, p1, bBlock);
            }
        }

        /// <summary>Slivers [s0, s1) against panels [p0, p1): each A sliver stays in L1 while it sweeps the B block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Compute(float* aBlock, float* bBlock, int jc, int nc, int s0, int s1, int p0, int p1)
        {
            int mr = cfg.Mr, nr = cfg.Nr;
            float* edge = stackalloc float[mr * nr];
            bool finish = !epilogue.IsNone;
            for (int s = s0; s < s1; s++)
            {
                int i = s * mr;
                int rows = Math.Min(mr, mc - i);
                float* ap = aBlock + (long)i * kc;
                float* cRow = c + (long)(ic + i) * ldc + jc;
                for (int p = p0; p < p1; p++)
                {
                    int j = p * nr;
                    int cols = Math.Min(nr, nc - j);
                    float* bp = bBlock + (long)j * kc;
                    if (rows == mr && cols == nr)
                    {
                        cfg.Kernel(ap, bp, cRow + j, ldc, kc, accumulate);
                    }
                    else
                    {
                        cfg.Kernel(ap, bp, edge, nr, kc, accumulate: false);
                        StoreEdge(edge, nr, cRow + j, ldc, rows, cols, accumulate);
                    }

                    if (finish)
                    {
                        epilogue.Apply(cRow + j, ldc, ic + i, jc + j, rows, cols);
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
    }
}
