using Tessera.Kernels.Core;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Lowers convolution input patches to a matrix: row (c, kernel offset) holds, for each output position, the input
/// value that tap reads (zero where it falls in the padding). The last spatial axis is filled as a run, copied
/// directly when the stride is one.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// Fills col (channels * KernelSize rows, (outer1 - outer0) * lastOutput columns) for the output positions whose
    /// leading indices (all axes but the last, flattened) are in [outer0, outer1).
    /// </summary>
    public static void Fill(float* x, int channels, ConvGeometry g, int outer0, int outer1, float* col, ParallelRunner parallel)
    {
        int rows = channels * g.KernelSize;
        long work = (long)rows * (outer1 - outer0) * g.Output[^1];
        var runner = work < 1 << 15 ? ParallelRunner.Sequential : parallel;
        runner.ForRange(rows, 8, (r0, r1) => FillRows(x, g, outer0, outer1, col, r0, r1));
    }

    private static void FillRows(float* x, ConvGeometry g, int outer0, int outer1, float* col, int r0, int r1)
    {
        int rank = g.Rank;
        int last = rank - 1;
        int outLast = g.Output[last];
        int inLast = g.Input[last];
        int strideLast = g.Strides[last];
        int width = (outer1 - outer0) * outLast;
        Span<int> tap = stackalloc int[rank];
        Span<int> position = stackalloc int[rank];
        for (int r = r0; r < r1; r++)
        {
            int c = r / g.KernelSize;
            Decompose(r % g.KernelSize, g.Kernel, tap);
            int offLast = tap[last] * g.Dilations[last] - g.PadBegin[last];
            (int lo, int hi) = ValidRange(offLast, strideLast, inLast, outLast);
            float* channel = x + (long)c * g.InputSize;
            float* dstRow = col + (long)r * width;
            for (int o = outer0; o < outer1; o++)
            {
                float* dst = dstRow + (long)(o - outer0) * outLast;
                long baseOffset = 0;
                bool inside = true;
                int rest = o;
                for (int d = last - 1; d >= 0; d--)
                {
                    position[d] = rest % g.Output[d];
                    rest /= g.Output[d];
                }

                long inStride = inLast;
                for (int d = last - 1; d >= 0; d--)
                {
                    int i = position[d] * g.Strides[d] - g.PadBegin[d] + tap[d] * g.Dilations[d];
                    if ((uint)i >= (uint)g.Input[d])
                    {
                        inside = false;
                        break;
                    }

                    baseOffset += i * inStride;
                    inStride *= g.Input[d];
                }

                if (!inside || lo >= hi)
                {
                    new Span<float>(dst, outLast).Clear();
                    continue;
                }

                new Span<float>(dst, lo).Clear();
                float* src = channel + baseOffset + offLast;
                if (strideLast == 1)
                {
                    new ReadOnlySpan<float>(src + lo, hi - lo).CopyTo(new Span<float>(dst + lo, hi - lo));
                }
                else
                {
                    for (int ow = lo; ow < hi; ow++)
                    {
                        dst[ow] = src[(long)ow * strideLast];
                    }
                }

                new Span<float>(dst + hi, outLast - hi).Clear();
            }
        }
    }

    /// <summary>Positions p in [0, count) with 0 &lt;= p*stride + offset &lt; bound.</summary>
    internal static (int Lo, int Hi) ValidRange(int offset, int stride, int bound, int count)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = bound - offset <= 0 ? 0 : (bound - offset + stride - 1) / stride;
        return (Math.Min(lo, count), Math.Clamp(hi, 0, count));
    }

    internal static void Decompose(int flat, int[] dims, Span<int> index)
    {
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            index[d] = flat % dims[d];
            flat /= dims[d];
        }
    }
}
