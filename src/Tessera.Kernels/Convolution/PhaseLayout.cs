using System.Runtime.Intrinsics;

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
            ClearBorders(channel, g, 1);
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
                    StrideTwoColumns.Deinterleave(src, inW, Reads(_columnPhases, evenPhase) ? rowBase + evenPhase * PlaneFloats + _left / 2 : null,
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
    /// channels. The same positions are cleared and copied as by <see cref="Fill"/>, 16 floats each, without a transpose;
    /// of the input only the rows that land on padded rows [<paramref name="paddedRow0"/>, <paramref name="paddedRow1"/>)
    /// (the rows some outputs' taps read), the border whole.
    /// </summary>
    public void FillBlocked(float* x, float* dst, ConvGeometry g, int paddedRow0 = 0, int paddedRow1 = int.MaxValue)
    {
        const int Lanes = ChannelBlockedLayout.Lanes;
        int inH = g.Input[0], inW = g.Input[1];
        ClearBorders(dst, g, Lanes);
        for (int ih = Math.Max(0, paddedRow0 - _top); ih < Math.Min(inH, paddedRow1 - _top); ih++)
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

            // Phase by phase, as Fill's general case: no division per pixel, and the columns of a phase no tap reads
            // (the odd ones of a strided 1x1 kernel) are not visited.
            for (int phase = 0; phase < StrideW; phase++)
            {
                if (!Reads(_columnPhases, phase))
                {
                    continue;
                }

                int iw = ((phase - _left) % StrideW + StrideW) % StrideW;
                float* d = rowBase + (phase * PlaneFloats + (iw + _left) / StrideW) * Lanes;
                for (float* s = src + (long)iw * Lanes; iw < inW; iw += StrideW, s += StrideW * Lanes, d += Lanes)
                {
                    // A pixel's 16 channels: one vector with AVX-512, two with AVX2.
                    ChannelBlockStore.Pixel(s, null, null, d, relu: false);
                }
            }
        }
    }

    /// <summary>
    /// Zeroes, in each phase plane some tap reads of one channel's layout (<paramref name="lanes"/> floats per position),
    /// the positions no input pixel lands on. The input covers one rectangle of each plane (rows [r0, r1), columns
    /// [c0, c1)), which the fill then writes, so only its border is cleared: the rows above it with the first row's
    /// left columns, each row's right columns with the next row's left ones (adjacent in memory), and after the last
    /// row everything to the plane's end. On a 56x56 input with a pad of 1 that is 228 of the plane's 3,364 positions.
    /// </summary>
    private void ClearBorders(float* channel, ConvGeometry g, int lanes)
    {
        for (int a = 0; a < StrideH; a++)
        {
            int r0 = FirstIndex(_top, a, StrideH), r1 = Math.Max(r0, FirstIndex(_top + g.Input[0], a, StrideH));
            for (int b = 0; b < StrideW; b++)
            {
                if (!Reads(_rowPhases, a) || !Reads(_columnPhases, b))
                {
                    continue;
                }

                float* plane = channel + ((long)a * StrideW + b) * PlaneFloats * lanes;
                int c0 = FirstIndex(_left, b, StrideW), c1 = Math.Max(c0, FirstIndex(_left + g.Input[1], b, StrideW));
                if (r0 == r1 || c0 == c1)
                {
                    Zero(plane, PlaneFloats * lanes);
                    continue;
                }

                Zero(plane, ((long)r0 * RowPitch + c0) * lanes);
                for (int r = r0; r < r1; r++)
                {
                    long from = (long)r * RowPitch + c1, to = r + 1 < r1 ? (long)(r + 1) * RowPitch + c0 : PlaneFloats;
                    Zero(plane + from * lanes, (to - from) * lanes);
                }
            }
        }
    }

    /// <summary>The first index i of a phase plane whose padded position phase + i * stride is at or after <paramref name="position"/>.</summary>
    private static int FirstIndex(int position, int phase, int stride) => position <= phase ? 0 : (position - phase + stride - 1) / stride;

    /// <summary>Zeroes n floats: the short runs between rows (2 positions for a pad of 1) with plain stores, longer ones with a memset.</summary>
    private static void Zero(float* p, long n)
    {
        if (n > 64)
        {
            new Span<float>(p, checked((int)n)).Clear();
            return;
        }

        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float>.Zero.Store(p + i);
            }
        }

        for (; i < n; i++)
        {
            p[i] = 0f;
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
