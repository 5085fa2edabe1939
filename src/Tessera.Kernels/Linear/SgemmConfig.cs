using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

internal enum SgemmIsa
{
    Portable,
    Avx2,
    Avx512,
}

/// <summary>
/// The micro-kernel chosen for this machine and its blocking: Mr x Nr register tiles; Kc deep so an A sliver
/// (Mr x Kc) stays in L1 while the packed B block (Kc x Nc) stays in L2 and the kernel sweeps C along rows;
/// Mc rows of A packed per block (an L3-sized buffer).
/// </summary>
internal sealed class SgemmConfig
{
    private SgemmConfig(SgemmIsa isa, int mr, int nr, int kc, int mc, int nc)
    {
        Isa = isa;
        Mr = mr;
        Nr = nr;
        Kc = kc;
        Mc = mc;
        Nc = nc;
    }

    public static SgemmConfig Current { get; } = Detect();

    public SgemmIsa Isa { get; }

    public int Mr { get; }

    public int Nr { get; }

    public int Kc { get; }

    /// <summary>Largest M block; a multiple of <see cref="Mr"/>.</summary>
    public int Mc { get; }

    /// <summary>Largest N block; a multiple of <see cref="Nr"/>.</summary>
    public int Nc { get; }

    public static SgemmConfig For(SgemmIsa isa) => isa switch
    {
        SgemmIsa.Avx512 => new SgemmConfig(isa, SgemmMicroKernelAvx512.Mr, SgemmMicroKernelAvx512.Nr, 384,
            SgemmMicroKernelAvx512.Mr * 512, SgemmMicroKernelAvx512.Nr * 11),
        SgemmIsa.Avx2 => new SgemmConfig(isa, SgemmMicroKernelAvx2.Mr, SgemmMicroKernelAvx2.Nr, 256,
            SgemmMicroKernelAvx2.Mr * 682, SgemmMicroKernelAvx2.Nr * 48),
        _ => new SgemmConfig(isa, SgemmMicroKernelPortable.Mr, SgemmMicroKernelPortable.Nr, 256,
            SgemmMicroKernelPortable.Mr * 1024, SgemmMicroKernelPortable.Nr * 96),
    };

    /// <summary>This configuration with other cache blocking (tuning experiments and tests of block edges).</summary>
    public SgemmConfig WithBlocking(int kc, int mc, int nc) =>
        new(Isa, Mr, Nr, Math.Max(1, kc), Math.Max(1, mc / Mr) * Mr, Math.Max(1, nc / Nr) * Nr);

    public static bool IsSupported(SgemmIsa isa) => isa switch
    {
        SgemmIsa.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        SgemmIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    private static SgemmConfig Detect()
    {
        if (IsSupported(SgemmIsa.Avx512))
        {
            return For(SgemmIsa.Avx512);
        }

        return IsSupported(SgemmIsa.Avx2) ? For(SgemmIsa.Avx2) : For(SgemmIsa.Portable);
    }

    /// <summary>Whether this machine's kernel can read a row-major A in place (<see cref="KernelRowMajorA"/>): AVX2's and AVX-512's.</summary>
    public bool ReadsRowMajorA => Isa is SgemmIsa.Avx2 or SgemmIsa.Avx512;

    /// <summary>c[Mr x Nr] = (c +) A[rows x kc] * packed-b-panel, row r of A at a + r*lda; only where <see cref="ReadsRowMajorA"/>.</summary>
    public unsafe void KernelRowMajorA(float* a, nint lda, int rows, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        if (Isa == SgemmIsa.Avx512)
        {
            SgemmMicroKernelAvx512.RunRowMajorA(a, lda, rows, b, c, ldc, kc, accumulate);
        }
        else
        {
            SgemmMicroKernelAvx2.RunRowMajorA(a, lda, rows, b, c, ldc, kc, accumulate);
        }
    }

    /// <summary>Runs the micro-kernel: c[Mr x Nr] = (c +) packed-a-sliver * packed-b-panel.</summary>
    public unsafe void Kernel(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        switch (Isa)
        {
            case SgemmIsa.Avx512:
                SgemmMicroKernelAvx512.Run(a, b, c, ldc, kc, accumulate);
                break;
            case SgemmIsa.Avx2:
                SgemmMicroKernelAvx2.Run(a, b, c, ldc, kc, accumulate);
                break;
            default:
                SgemmMicroKernelPortable.Run(a, b, c, ldc, kc, accumulate);
                break;
        }
    }
}
