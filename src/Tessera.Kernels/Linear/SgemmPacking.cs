using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layouts the micro-kernels stream: A as slivers of Mr rows with the
/// Mr values of each k adjacent, B as panels of Nr columns with the Nr values of each k adjacent. Rows and
/// columns past the matrix edge are zero so edge tiles can run the full kernel.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] scaled by alpha; sliver s lands at dst + s*mr*kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, int lda, bool trans, int i0, int mc, int p0, int kc, float alpha, int mr, float* dst)
    {
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            float* d = dst + (long)s * kc;
            if (trans)
            {
                // op(A)[i, k] = a[k*lda + i]: each k is a contiguous run of rows.
                for (int k = 0; k < kc; k++)
                {
                    float* src = a + (long)(p0 + k) * lda + i0 + s;
                    float* dk = d + k * mr;
                    int r = 0;
                    for (; r < rows; r++)
                    {
                        dk[r] = alpha * src[r];
                    }

                    for (; r < mr; r++)
                    {
                        dk[r] = 0;
                    }
                }
            }
            else if (SgemmPackingTranspose.IsSupported)
            {
                SgemmPackingTranspose.PackRows(a + (long)(i0 + s) * lda + p0, lda, rows, kc, alpha, mr, d);
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (long)(i0 + s + r) * lda + p0;
                    float* dr = d + r;
                    if (alpha == 1f)
                    {
                        for (int k = 0; k < kc; k++)
                        {
                            dr[k * mr] = src[k];
                        }
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++)
                        {
                            dr[k * mr] = alpha * src[k];
                        }
                    }
                }

                for (int r = rows; r < mr; r++)
                {
                    for (int k = 0; k < kc; k++)
                    {
                        d[k * mr + r] = 0;
                    }
                }
            }
        }
    }

    /// <summary>Packs the Nr-wide panels [panel0, panel1) of op(B)[p0..p0+kc, j0..j0+nc]; panel p lands at dst + p*nr*kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(float* b, int ldb, bool trans, int j0, int nc, int p0, int kc, int nr, int panel0, int panel1, float* dst)
    {
        for (int p = panel0; p < panel1; p++)
        {
            int j = p * nr;
            int cols = Math.Min(nr, nc - j);
            float* d = dst + (long)p * nr * kc;
            if (trans)
            {
                // op(B)[k, j] = b[j*ldb + k]: read each source row once, scatter into the panel.
                for (int c = 0; c < cols; c++)
                {
                    float* src = b + (long)(j0 + j + c) * ldb + p0;
                    float* dc = d + c;
                    for (int k = 0; k < kc; k++)
                    {
                        dc[k * nr] = src[k];
                    }
                }

                for (int c = cols; c < nr; c++)
                {
                    for (int k = 0; k < kc; k++)
                    {
                        d[k * nr + c] = 0;
                    }
                }
            }
            else if (cols == nr)
            {
                nuint bytes = (nuint)(nr * sizeof(float));
                for (int k = 0; k < kc; k++)
                {
                    Unsafe.CopyBlockUnaligned(d + k * nr, b + (long)(p0 + k) * ldb + j0 + j, (uint)bytes);
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = b + (long)(p0 + k) * ldb + j0 + j;
                    float* dk = d + k * nr;
                    int c = 0;
                    for (; c < cols; c++)
                    {
                        dk[c] = src[c];
                    }

                    for (; c < nr; c++)
                    {
                        dk[c] = 0;
                    }
                }
            }
        }
    }
}
