using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// One SGEMM call after its arguments are settled (beta is 0 or 1): C[m x n] (+)= op(A) * op(B) over depth k, run
/// either for a range of rows by one thread (<see cref="RunRows"/>) or block by block by several threads that share
/// each packed B block (<see cref="RunShared"/>).
/// </summary>
internal readonly unsafe struct SgemmJob(SgemmOperands ops, SgemmConfig cfg, int m, int n, int k, bool accumulate, float* c, int ldc,
    SgemmEpilogue epilogue)
{
    public SgemmOperands Ops => ops;

    public SgemmConfig Config => cfg;

    public int M => m;

    public int N => n;

    public int Slivers => (m + cfg.Mr - 1) / cfg.Mr;

    /// <summary>The step of rows [ic, ic + mc) at depth [pc, pc + kc); the last depth step applies the epilogue.</summary>
    public SgemmStep Step(int ic, int mc, int pc, int kc) =>
        new(ops, cfg, c, ldc, ic, mc, pc, kc, ops.Alpha, accumulate: pc > 0 || accumulate, pc + kc >= k ? epilogue : default);

    /// <summary>
    /// Rows [r0, r1) of C (r0 a multiple of Mr) on the calling thread alone, packing into this thread's scratch: the
    /// whole product when single-threaded, or one thread's share of rows when the others need nothing it packs.
    /// </summary>
    public void RunRows(int r0, int r1)
    {
        int mr = cfg.Mr, nr = cfg.Nr;
        for (int ic = r0; ic < r1; ic += cfg.Mc)
        {
            int mc = Math.Min(cfg.Mc, r1 - ic);
            int slivers = (mc + mr - 1) / mr;
            for (int pc = 0; pc < k; pc += cfg.Kc)
            {
                int kc = Math.Min(cfg.Kc, k - pc);
                var step = Step(ic, mc, pc, kc);
                float* aBlock = null;
                if (ops.PackedA is not null)
                {
                    aBlock = ops.PackedA.Block(ic, pc);
                }
                else if (!step.StreamsA)
                {
                    aBlock = SgemmScratch.Get(0, (long)slivers * mr * kc);
                    step.PackA(aBlock, 0, slivers);
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
                        step.PackB(bBlock, jc, nc, 0, panels);
                    }

                    step.Compute(aBlock, bBlock, jc, nc, 0, slivers, 0, panels);
                }
            }
        }
    }

    /// <summary>
    /// The whole product on <paramref name="runner"/>'s threads, block by block: each B block is packed once (its
    /// panels split across threads) into the caller's scratch and shared; the threads then split either the A slivers
    /// (each packing its own) or, for short A, the B panels.
    /// </summary>
    public void RunShared(ParallelRunner runner)
    {
        int degree = runner.Degree, mr = cfg.Mr, nr = cfg.Nr;
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
                var step = Step(ic, mc, pc, kc);
                float* aBlock = null;
                bool streamsA = step.StreamsA;
                if (ops.PackedA is not null)
                {
                    aBlock = ops.PackedA.Block(ic, pc);
                }
                else if (!streamsA)
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
                        var pack = new SgemmPackBBody(step, bBlock, jc, nc);
                        runner.ForRange(panels, 1, ref pack);
                    }

                    // The first B block of each depth step also packs each thread's own A slivers.
                    bool packA = threadsM > 1 && jc == 0 && ops.PackedA is null && !streamsA;
                    int tasks = threadsM > 1 ? threadsM : Math.Min(degree, panels);
                    var compute = new SgemmComputeBody(step, aBlock, bBlock, jc, nc, slivers, panels, tasks, splitSlivers: threadsM > 1, packA);
                    if (tasks == 1)
                    {
                        compute.Invoke(0, 1);
                    }
                    else
                    {
                        runner.ForRange(tasks, 1, ref compute);
                    }
                }
            }
        }
    }
}
