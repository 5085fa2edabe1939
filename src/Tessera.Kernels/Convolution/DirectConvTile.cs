using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The register tile of the direct convolution on one instruction set: <see cref="Mr"/> output channels (the height of
/// the SGEMM's A slivers on that instruction set, so the weights packed for the SGEMM serve both) by a wide run of
/// <see cref="Nr"/> columns, with a narrow run of <see cref="Narrow"/> columns for what is left. AVX-512: 8 x 48 and
/// 8 x 16; AVX2: 6 x 16 and 6 x 8. Without either the convolution takes the im2col SGEMM path.
/// </summary>
internal sealed unsafe class DirectConvTile
{
    public static readonly DirectConvTile Avx512 = new(SgemmIsa.Avx512, DirectConvMicroKernel.Mr, DirectConvMicroKernel.Nr, 16);

    public static readonly DirectConvTile Avx2 = new(SgemmIsa.Avx2, DirectConvMicroKernelAvx2.Mr, DirectConvMicroKernelAvx2.Nr, 8);

    // Columns swept per depth block (a multiple of both wide tiles): the layout rows they read (Kc taps x 528 columns)
    // stay in L2, and so do the thread's tile rows for them until they are finished.
    private const int Chunk = 528;

    // Cost of a narrow micro-kernel call relative to its width's share of a wide one: it issues more loads per FMA, so it
    // runs closer to the load ports' limit (AVX-512: 9 loads per 8 FMAs against 11 per 24).
    private const double NarrowCallCost = 1.5;

    private DirectConvTile(SgemmIsa isa, int mr, int nr, int narrow)
    {
        Isa = isa;
        Mr = mr;
        Nr = nr;
        Narrow = narrow;
    }

    public SgemmIsa Isa { get; }

    public int Mr { get; }

    public int Nr { get; }

    public int Narrow { get; }

    public int ChunkColumns => Chunk;

    /// <summary>The tile for weights packed with <paramref name="config"/>, or null when this machine has no direct kernel for it.</summary>
    public static DirectConvTile? For(SgemmConfig config) => config.Isa switch
    {
        SgemmIsa.Avx512 when DirectConvMicroKernel.IsSupported && config.Mr == Avx512.Mr => Avx512,
        SgemmIsa.Avx2 when DirectConvMicroKernelAvx2.IsSupported && config.Mr == Avx2.Mr => Avx2,
        _ => null,
    };

    /// <summary>c[Mr x width] (+)= a-sliver * B for columns [0, width) (a multiple of <see cref="Narrow"/>), B row k at x + offsets[k].</summary>
    public void Sweep(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate, int width)
    {
        if (Isa == SgemmIsa.Avx512)
        {
            DirectConvMicroKernel.Sweep(a, x, offsets, kc, c, ldc, accumulate, width);
        }
        else
        {
            DirectConvMicroKernelAvx2.Sweep(a, x, offsets, kc, c, ldc, accumulate, width);
        }
    }

    /// <summary>c[Mr x Nr] (+)= a-sliver * B, B row k at x + offsets[k].</summary>
    public void RunWide(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        if (Isa == SgemmIsa.Avx512)
        {
            DirectConvMicroKernel.Run3(a, x, offsets, kc, c, ldc, accumulate);
        }
        else
        {
            DirectConvMicroKernelAvx2.Run2(a, x, offsets, kc, c, ldc, accumulate);
        }
    }

    /// <summary>
    /// Cost of one run of <paramref name="width"/> columns (a multiple of <see cref="Narrow"/>), in narrow-width units of a
    /// wide call: wide calls, then a double-narrow one where it fits (as cheap per column), then narrow ones.
    /// </summary>
    public double ColumnCost(int width)
    {
        int rest = width % Nr;
        return width / Nr * (Nr / Narrow) + rest / (2 * Narrow) * 2 + rest % (2 * Narrow) / Narrow * NarrowCallCost;
    }
}
