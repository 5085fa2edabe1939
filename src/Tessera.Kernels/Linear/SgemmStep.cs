using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Linear;

/// <summary>One (Mc rows, Kc depth) step of the blocked product: packing and the register-tile sweep.</summary>
internal readonly unsafe struct SgemmStep(SgemmOperands ops, SgemmConfig cfg, float* c, int ldc, int ic, int mc, int pc, int kc,
    float alpha, bool accumulate, SgemmEpilogue epilogue)
{
    /// <summary>
    /// Whether the kernels read this step's A where it lies (row-major, alpha 1, not pre-packed) instead of from a
    /// packed block: then nothing packs A, and <see cref="Compute"/> ignores its aBlock. Packing A costs about a
    /// cycle per element, against N/16 cycles of multiply-adds per element: 10% of an N = 128 projection and 30% of
    /// attention's N = 32 score-times-value product (AVX2 tier, 128x32x128: 14.8 us packing, 10.3 us not).
    /// </summary>
    public bool StreamsA => cfg.ReadsRowMajorA && ops.PackedA is null && ops.A != null && !ops.TransA && alpha == 1f;

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
        bool streamsA = StreamsA;
        int lda = ops.Lda;
        for (int s = s0; s < s1; s++)
        {
            int i = s * mr;
            int rows = Math.Min(mr, mc - i);
            float* ap = streamsA ? ops.A + (long)(ic + i) * lda + pc : aBlock + (long)i * kc;
            float* cRow = c + (long)(ic + i) * ldc + jc;
            for (int p = p0; p < p1; p++)
            {
                int j = p * nr;
                int cols = Math.Min(nr, nc - j);
                float* bp = bBlock + (long)j * kc;
                bool whole = rows == mr && cols == nr;
                float* tile = whole ? cRow + j : edge;
                nint ldTile = whole ? ldc : nr;
                bool add = whole && accumulate;
                if (streamsA)
                {
                    cfg.KernelRowMajorA(ap, lda, rows, bp, tile, ldTile, kc, add);
                }
                else
                {
                    cfg.Kernel(ap, bp, tile, ldTile, kc, add);
                }

                if (!whole)
                {
                    StoreEdge(edge, nr, cRow + j, ldc, rows, cols, accumulate);
                }
            }

            if (finish && p1 > p0)
            {
                // Once per sliver over all its panels: long rows amortise the epilogue's per-call cost, and the
                // sliver's tiles are still in L1.
                int j0 = p0 * nr;
                epilogue.Apply(cRow + j0, ldc, ic + i, jc + j0, rows, Math.Min(p1 * nr, nc) - j0);
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
