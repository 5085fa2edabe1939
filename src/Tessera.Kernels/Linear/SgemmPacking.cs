using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
        if (!trans)
        {
            // The full panels row by row: each row of B is read as one run (see CopyRows), the partial last panel below.
            int full = Math.Min(panel1, nc / nr);
            if (full > panel0)
            {
                CopyRows(b + (long)p0 * ldb + j0 + panel0 * nr, ldb, kc, nr, full - panel0, dst + (long)panel0 * nr * kc);
                panel0 = full;
            }
        }

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

    /// <summary>
    /// The <paramref name="panels"/> full panels of B's rows [0, kc) from src (row k at src + k ldb), panel p at
    /// dst + p nr kc: row by row, each row's panels x nr floats read as one run (16 floats a vector pair), so the
    /// hardware prefetcher follows kc sequential streams. (Panel by panel, each panel row was a Memmove call of 64-192
    /// bytes from kc rows a plane apart: on a 1x1 convolution over 48 channels of 160x160, AVX2 tier, that pack was
    /// 45% of the convolution's samples, vectorised in that order still 35%.)
    /// </summary>
    private static void CopyRows(float* src, int ldb, int kc, int nr, int panels, float* dst)
    {
        long panelFloats = (long)nr * kc;
        for (int k = 0; k < kc; k++, src += ldb)
        {
            float* s = src, d = dst + (long)k * nr;
            if (Vector256.IsHardwareAccelerated && nr % 16 == 0)
            {
                for (int p = 0; p < panels; p++, d += panelFloats)
                {
                    for (int c = 0; c < nr; c += 16, s += 16)
                    {
                        Vector256.Store(Vector256.Load(s), d + c);
                        Vector256.Store(Vector256.Load(s + 8), d + c + 8);
                    }
                }
            }
            else if (Vector128.IsHardwareAccelerated && nr % 8 == 0)
            {
                for (int p = 0; p < panels; p++, d += panelFloats)
                {
                    for (int c = 0; c < nr; c += 8, s += 8)
                    {
                        Vector128.Store(Vector128.Load(s), d + c);
                        Vector128.Store(Vector128.Load(s + 4), d + c + 4);
                    }
                }
            }
            else
            {
                for (int p = 0; p < panels; p++, d += panelFloats, s += nr)
                {
                    Unsafe.CopyBlockUnaligned(d, s, (uint)(nr * sizeof(float)));
                }
            }
        }
    }
}
