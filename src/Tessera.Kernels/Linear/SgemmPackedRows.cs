using System.Runtime.Intrinsics;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// A few rows of op(A) times a pre-packed B (batch-1 fully-connected layers): streams each packed panel once per row
/// with vector accumulators, instead of padding the rows to a full register tile.
/// </summary>
internal static unsafe class SgemmPackedRows
{
    public const int MaxRows = 4;

    public static void Run(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc,
        ParallelRunner parallel)
    {
        int nr = b.Config.Nr;
        int panels = (b.N + nr - 1) / nr;
        var runner = (long)m * b.N * b.K < (1L << 16) ? ParallelRunner.Sequential : parallel;
        var body = new Body(transA, m, alpha, a, lda, b, beta, c, ldc);
        runner.ForRange(panels, 4, ref body);
        GC.KeepAlive(b);
    }

    private static void Panels(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc,
        int p0, int p1)
    {
        int nr = b.Config.Nr;
        float* tile = stackalloc float[nr];
        for (int i = 0; i < m; i++)
        {
            for (int p = p0; p < p1; p++)
            {
                int j0 = p * nr;
                int cols = Math.Min(nr, b.N - j0);
                float* cp = c + (long)i * ldc + j0;
                for (int j = 0; j < cols; j++) tile[j] = beta == 0f ? 0f : cp[j];
                Panel(transA, i, alpha, a, lda, b, p, beta != 0f, tile);
                for (int j = 0; j < cols; j++) cp[j] = tile[j];
            }
        }
    }

    // The element order of the blocked kernel (SgemmStep): per depth block of Kc, a fresh multiply-add chain (fused
    // where the hardware fuses, as the micro-kernels' MultiplyAddEstimate is) over alpha-scaled A values, stored on the first block when C starts empty and added to C after that. A row of
    // a batch-1 layer then has the same bits as the same row inside a larger batch, which data parallelism relies on.
    private static void Panel(bool transA, int row, float alpha, float* a, int lda, SgemmPackedB b, int panel, bool add, float* tile)
    {
        int nr = b.Config.Nr, kcMax = b.Config.Kc;
        long aStep = transA ? lda : 1;
        float* aRow = transA ? a + row : a + (long)row * lda;
        if (Vector256.IsHardwareAccelerated && nr % 8 == 0)
        {
            int vectors = nr / 8;
            var acc = stackalloc Vector256<float>[vectors];
            for (int pc = 0; pc < b.K; pc += kcMax)
            {
                int kc = Math.Min(kcMax, b.K - pc);
                for (int v = 0; v < vectors; v++) acc[v] = Vector256<float>.Zero;
                float* bp = b.Block(pc, panel * nr);
                for (int k = 0; k < kc; k++)
                {
                    var s = Vector256.Create(alpha * aRow[(pc + k) * aStep]);
                    for (int v = 0; v < vectors; v++)
                    {
                        acc[v] = Vector256.FusedMultiplyAdd(s, Vector256.Load(bp + v * 8), acc[v]);
                    }

                    bp += nr;
                }

                for (int v = 0; v < vectors; v++)
                {
                    var sum = pc > 0 || add ? Vector256.Load(tile + v * 8) + acc[v] : acc[v];
                    sum.Store(tile + v * 8);
                }
            }

            return;
        }

        float* part = stackalloc float[nr];
        for (int pc = 0; pc < b.K; pc += kcMax)
        {
            int kc = Math.Min(kcMax, b.K - pc);
            new Span<float>(part, nr).Clear();
            float* bp = b.Block(pc, panel * nr);
            for (int k = 0; k < kc; k++)
            {
                float s = alpha * aRow[(pc + k) * aStep];
                for (int j = 0; j < nr; j++)
                {
                    part[j] = float.MultiplyAddEstimate(s, bp[j], part[j]);
                }

                bp += nr;
            }

            for (int j = 0; j < nr; j++) tile[j] = pc > 0 || add ? tile[j] + part[j] : part[j];
        }
    }

    private readonly struct Body(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc)
        : IRangeBody
    {
        public void Invoke(int start, int end) => Panels(transA, m, alpha, a, lda, b, beta, c, ldc, start, end);
    }
}
