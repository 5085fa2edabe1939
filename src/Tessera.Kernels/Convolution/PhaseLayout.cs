using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The input of a 2-D convolution rearranged so every tap of every output row is a unit-stride run: each channel is
/// zero padded (<see cref="PaddedLayout"/>) and split into strideH x strideW phase planes (phase (a, b) holds padded
/// rows r with r % strideH == a and columns with col % strideW == b). Output (oh, ow) is then column j = oh * RowPitch
/// + ow of an implicit B matrix whose row for tap (c, kh, kw) starts at a fixed offset, for any stride and dilation.
/// Columns with ow past the output width are garbage that <see cref="DirectConv2D"/> computes and drops.
/// </summary>
internal readonly unsafe struct PhaseLayout
{
    private readonly int _top;
    private readonly int _left;

    // Which row (column) phases some tap reads, bit a for phase a; all bits set when the stride exceeds 64. A strided
    // 1x1 kernel (a ResNet downsample) reads one phase of each: the others are neither cleared nor written.
    private readonly ulong _rowPhases;
    private readonly ulong _columnPhases;

    public PhaseLayout(ConvGeometry g)
    {
        var padded = new PaddedLayout(g);
        _top = g.PadBegin[0];
        _left = g.PadBegin[1];
        StrideH = g.Strides[0];
        StrideW = g.Strides[1];
        _rowPhases = PhasesRead(g.Kernel[0], g.Dilations[0], StrideH);
        _columnPhases = PhasesRead(g.Kernel[1], g.Dilations[1], StrideW);
        PlaneRows = (padded.Height + StrideH - 1) / StrideH;
        RowPitch = (padded.Width + StrideW - 1) / StrideW;
        PlaneFloats = (long)PlaneRows * RowPitch;
        ChannelFloats = PlaneFloats * StrideH * StrideW;
        Columns = g.Output[0] * RowPitch;
        PaddedColumns = (Columns + 15) / 16 * 16;
    }

    public int StrideH { get; }

    public int StrideW { get; }

    public int PlaneRows { get; }

    /// <summary>Floats per row of a phase plane, and per output row in the implicit B.</summary>
    public int RowPitch { get; }

    public long PlaneFloats { get; }

    public long ChannelFloats { get; }

    /// <summary>Columns of the implicit B (output rows times <see cref="RowPitch"/>).</summary>
    public int Columns { get; }

    /// <summary><see cref="Columns"/> rounded up to whole vectors: the width the micro-kernels compute.</summary>
    public int PaddedColumns { get; }

    /// <summary>Floats for <paramref name="channels"/> channels plus the zeroed tail that the last vector of the last tap reads.</summary>
    public long Floats(int channels) => channels * ChannelFloats + PaddedColumns + 64;

    /// <summary>Writes channels [c0, c1) of x (planes of the input size) into dst (laid out for all channels).</summary>
    public void Fill(float* x, int c0, int c1, int channels, float* dst, ConvGeometry g)
    {
        int inH = g.Input[0], inW = g.Input[1];
        for (int c = c0; c < c1; c++)
        {
            float* channel = dst + c * ChannelFloats;
            for (int a = 0; a < StrideH; a++)
            {
                for (int b = 0; b < StrideW; b++)
                {
                    if (Reads(_rowPhases, a) && Reads(_columnPhases, b))
                    {
                        new Span<float>(channel + ((long)a * StrideW + b) * PlaneFloats, checked((int)PlaneFloats)).Clear();
                    }
                }
            }

            float* src = x + (long)c * g.InputSize;
            for (int ih = 0; ih < inH; ih++, src += inW)
            {
                int r = ih + _top;
                if (!Reads(_rowPhases, r % StrideH))
                {
                    continue;
                }

                float* rowBase = channel + (long)(r % StrideH) * StrideW * PlaneFloats + (long)(r / StrideH) * RowPitch;
                if (StrideW == 1)
                {
                    new ReadOnlySpan<float>(src, inW).CopyTo(new Span<float>(rowBase + _left, inW));
                    continue;
                }

                if (StrideW == 2)
                {
                    // Even columns 2q land at q + left / 2 of phase left % 2, odd ones 2q + 1 at q + (left + 1) / 2 of the other.
                    int evenPhase = _left % 2, oddPhase = (_left + 1) % 2;
                    Deinterleave(src, inW, Reads(_columnPhases, evenPhase) ? rowBase + evenPhase * PlaneFloats + _left / 2 : null,
                        Reads(_columnPhases, oddPhase) ? rowBase + oddPhase * PlaneFloats + (_left + 1) / 2 : null);
                    continue;
                }

                for (int phase = 0; phase < StrideW; phase++)
                {
                    if (!Reads(_columnPhases, phase))
                    {
                        continue;
                    }

                    // Input columns iw with (iw + left) % StrideW == phase land at (iw + left) / StrideW of that phase plane.
                    int iw = ((phase - _left) % StrideW + StrideW) % StrideW;
                    float* d = rowBase + phase * PlaneFloats + (iw + _left) / StrideW;
                    for (; iw < inW; iw += StrideW)
                    {
                        *d++ = src[iw];
                    }
                }
            }
        }

        if (c1 == channels)
        {
            new Span<float>(dst + channels * ChannelFloats, PaddedColumns + 64).Clear();
        }
    }

    /// <summary>
    /// Writes one 16-channel block of a channel-blocked image (<see cref="ChannelBlockedLayout"/>: pixels of 16 floats)
    /// into dst as <see cref="InterleavedLayout"/> keeps it: this layout with every float widened to the block's 16
    /// channels. The same positions are cleared and copied as by <see cref="Fill"/>, 16 floats each, without a transpose.
    /// </summary>
    public void FillBlocked(float* x, float* dst, ConvGeometry g)
    {
        const int Lanes = ChannelBlockedLayout.Lanes;
        int inH = g.Input[0], inW = g.Input[1];
        for (int a = 0; a < StrideH; a++)
        {
            for (int b = 0; b < StrideW; b++)
            {
                if (Reads(_rowPhases, a) && Reads(_columnPhases, b))
                {
                    new Span<float>(dst + ((long)a * StrideW + b) * PlaneFloats * Lanes, checked((int)(PlaneFloats * Lanes))).Clear();
                }
            }
        }

        for (int ih = 0; ih < inH; ih++)
        {
            int r = ih + _top;
            if (!Reads(_rowPhases, r % StrideH))
            {
                continue;
            }

            float* src = x + (long)ih * inW * Lanes;
            float* rowBase = dst + ((long)(r % StrideH) * StrideW * PlaneFloats + (long)(r / StrideH) * RowPitch) * Lanes;
            if (StrideW == 1)
            {
                new ReadOnlySpan<float>(src, inW * Lanes).CopyTo(new Span<float>(rowBase + (long)_left * Lanes, inW * Lanes));
                continue;
            }

            for (int iw = 0; iw < inW; iw++)
            {
                int column = iw + _left, phase = column % StrideW;
                if (Reads(_columnPhases, phase))
                {
                    Vector512.Load(src + (long)iw * Lanes).Store(rowBase + (phase * PlaneFloats + column / StrideW) * Lanes);
                }
            }
        }
    }

    /// <summary>Phases of a stride that the taps of one axis read, as a bit mask (all set past 64).</summary>
    private static ulong PhasesRead(int kernel, int dilation, int stride)
    {
        if (stride > 64)
        {
            return ulong.MaxValue;
        }

        ulong phases = 0;
        for (int k = 0; k < kernel; k++)
        {
            phases |= 1UL << (int)((long)k * dilation % stride);
        }

        return phases;
    }

    private static bool Reads(ulong phases, int phase) => phase >= 64 || (phases >> phase & 1) != 0;

    /// <summary>
    /// even[q] = src[2q] and odd[q] = src[2q + 1] for the n floats of src: 32 (AVX-512) or 16 (AVX2) at a time; a null
    /// even or odd is a phase nothing reads, which is not written.
    /// </summary>
    private static void Deinterleave(float* src, int n, float* even, float* odd)
    {
        if (even == null || odd == null)
        {
            Gather(src, n, even == null ? 1 : 0, even == null ? odd : even);
            return;
        }

        int q = 0;
        if (!Avx512F.IsSupported && Avx2.IsSupported)
        {
            for (; 2 * q + 16 <= n; q += 8)
            {
                var lo = Vector256.Load(src + 2 * q);
                var hi = Vector256.Load(src + 2 * q + 8);

                // Per 128-bit lane the shuffles take lo's and hi's even (odd) pairs; the 64-bit permute puts lo's first.
                var evens = Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble();
                var odds = Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble();
                Avx2.Permute4x64(evens, 0b11_01_10_00).AsSingle().Store(even + q);
                Avx2.Permute4x64(odds, 0b11_01_10_00).AsSingle().Store(odd + q);
            }
        }

        if (Avx512F.IsSupported)
        {
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            for (; 2 * q + 32 <= n; q += 16)
            {
                var lo = Vector512.Load(src + 2 * q);
                var hi = Vector512.Load(src + 2 * q + 16);
                Avx512F.PermuteVar16x32x2(lo, evens, hi).Store(even + q);
                Avx512F.PermuteVar16x32x2(lo, odds, hi).Store(odd + q);
            }
        }

        for (int i = 2 * q; i < n; i++)
        {
            ((i & 1) == 0 ? even : odd)[i >> 1] = src[i];
        }
    }

    /// <summary>dst[q] = src[2q + first] for the floats of src from <paramref name="first"/> on.</summary>
    private static void Gather(float* src, int n, int first, float* dst)
    {
        int q = 0;
        if (Avx512F.IsSupported)
        {
            var picks = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + Vector512.Create(first);
            for (; 2 * q + 32 <= n; q += 16)
            {
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * q), picks, Vector512.Load(src + 2 * q + 16)).Store(dst + q);
            }

            // The row's last (up to 31) floats as masked vectors: ResNet's downsamples read rows of 56, 28 and 14, whose
            // scalar tails cost more than their vectors. (The same tail in Deinterleave measured faster on a layout in
            // cache but slower on a batch's worth that is not, so it stays scalar there.)
            int left = n - 2 * q;
            if (left > first)
            {
                var (lo, hi) = Tail(src + 2 * q, left);
                Avx512F.MaskStore(dst + q, Below((left - first + 1) / 2), Avx512F.PermuteVar16x32x2(lo, picks, hi));
                return;
            }
        }

        for (int i = 2 * q + first; i < n; i += 2)
        {
            dst[i >> 1] = src[i];
        }
    }

    /// <summary>
    /// The <paramref name="n"/> (below 32) floats at src as two vectors, zeros past them: AVX-512's masked loads touch no
    /// memory outside the mask.
    /// </summary>
    private static (Vector512<float> Lo, Vector512<float> Hi) Tail(float* src, int n) =>
        (Avx512F.MaskLoad(src, Below(n), Vector512<float>.Zero), Avx512F.MaskLoad(src + 16, Below(n - 16), Vector512<float>.Zero));

    /// <summary>A mask of the lanes below <paramref name="count"/>.</summary>
    private static Vector512<float> Below(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>Offset of each B row (c, kh, kw), in the order of the weights' K axis.</summary>
    public void Offsets(int channels, ConvGeometry g, Span<int> offsets)
    {
        int kH = g.Kernel[0], kW = g.Kernel[1];
        int k = 0;
        for (int c = 0; c < channels; c++)
        {
            for (int kh = 0; kh < kH; kh++)
            {
                int rH = kh * g.Dilations[0];
                for (int kw = 0; kw < kW; kw++)
                {
                    int rW = kw * g.Dilations[1];
                    long offset = c * ChannelFloats + ((rH % StrideH) * StrideW + rW % StrideW) * PlaneFloats
                        + (long)(rH / StrideH) * RowPitch + rW / StrideW;
                    offsets[k++] = checked((int)offset);
                }
            }
        }
    }
}
