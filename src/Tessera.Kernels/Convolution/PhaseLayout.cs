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

    public PhaseLayout(ConvGeometry g)
    {
        var padded = new PaddedLayout(g);
        _top = g.PadBegin[0];
        _left = g.PadBegin[1];
        StrideH = g.Strides[0];
        StrideW = g.Strides[1];
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
            new Span<float>(channel, checked((int)ChannelFloats)).Clear();
            float* src = x + (long)c * g.InputSize;
            for (int ih = 0; ih < inH; ih++, src += inW)
            {
                int r = ih + _top;
                float* rowBase = channel + (long)(r % StrideH) * StrideW * PlaneFloats + (long)(r / StrideH) * RowPitch;
                if (StrideW == 1)
                {
                    new ReadOnlySpan<float>(src, inW).CopyTo(new Span<float>(rowBase + _left, inW));
                    continue;
                }

                if (StrideW == 2)
                {
                    // Even columns 2q land at q + left / 2 of phase left % 2, odd ones 2q + 1 at q + (left + 1) / 2 of the other.
                    Deinterleave(src, inW, rowBase + _left % 2 * PlaneFloats + _left / 2, rowBase + (_left + 1) % 2 * PlaneFloats + (_left + 1) / 2);
                    continue;
                }

                for (int phase = 0; phase < StrideW; phase++)
                {
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

    /// <summary>even[q] = src[2q] and odd[q] = src[2q + 1] for the n floats of src: 32 (AVX-512) or 16 (AVX2) at a time.</summary>
    private static void Deinterleave(float* src, int n, float* even, float* odd)
    {
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
