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
                Panel(transA, i, a, lda, b, p, tile);
                int j0 = p * nr;
                int cols = Math.Min(nr, b.N - j0);
                float* cp = c + (long)i * ldc + j0;
                for (int j = 0; j < cols; j++)
                {
                    cp[j] = beta == 0f ? alpha * tile[j] : alpha * tile[j] + beta * cp[j];
                }
            }
        }
    }

    private static void Panel(bool transA, int row, float* a, int lda, SgemmPackedB b, int panel, float* tile)
    {
        int nr = b.Config.Nr, kcMax = b.Config.Kc;
        long aStep = transA ? lda : 1;
        float* aRow = transA ? a + row : a + (long)row * lda;
        if (Vector256.IsHardwareAccelerated && nr % 8 == 0)
        {
            int vectors = nr / 8;
            var acc = stackalloc Vector256<float>[vectors];
            for (int v = 0; v < vectors; v++)
            {
                acc[v] = Vector256<float>.Zero;
            }

            for (int pc = 0; pc < b.K; pc += kcMax)
            {
                int kc = Math.Min(kcMax, b.K - pc);
                float* bp = b.Block(pc, panel * nr);
                for (int k = 0; k < kc; k++)
                {
                    var s = Vector256.Create(aRow[(pc + k) * aStep]);
                    for (int v = 0; v < vectors; v++)
                    {
                        acc[v] = Vector256.MultiplyAddEstimate(s, Vector256.Load(bp + v * 8), acc[v]);
                    }

                    bp += nr;
                }
            }

            for (int v = 0; v < vectors; v++)
            {
                acc[v].Store(tile + v * 8);
            }

            return;
        }

        new Span<float>(tile, nr).Clear();
        for (int pc = 0; pc < b.K; pc += kcMax)
        {
            int kc = Math.Min(kcMax, b.K - pc);
            float* bp = b.Block(pc, panel * nr);
            for (int k = 0; k < kc; k++)
            {
                float s = aRow[(pc + k) * aStep];
                for (int j = 0; j < nr; j++)
                {
                    tile[j] += s * bp[j];
                }

                bp += nr;
            }
        }
    }

    private readonly struct Body(bool transA, int m, float alpha, float* a, int lda, SgemmPackedB b, float beta, float* c, int ldc)
        : IRangeBody
    {
        public void Invoke(int start, int end) => Panels(transA, m, alpha, a, lda, b, beta, c, ldc, start, end);
    }
}
