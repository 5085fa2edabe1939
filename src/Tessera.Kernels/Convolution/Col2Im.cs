using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The adjoint of <see cref="Im2Col"/> for transposed convolution: row (m, kernel offset) of col holds each input
/// position's contribution through that tap, which is added into the output position it lands on. Threads split
/// output channels so no two write the same element.
/// </summary>
internal static unsafe class Col2Im
{
    /// <summary>
    /// y (channels x OutputSize, already holding bias or zeros) += scatter of col (channels * KernelSize rows, one
    /// column per input position whose leading indices, flattened, are in [outer0, outer1)). Here g.Input is the
    /// transposed convolution's input and g.Output its output.
    /// </summary>
    public static void Accumulate(float* col, int channels, ConvGeometry g, int outer0, int outer1, float* y, ParallelRunner parallel)
    {
        long work = (long)channels * g.KernelSize * (outer1 - outer0) * g.Input[^1];
        var runner = work < 1 << 15 ? ParallelRunner.Sequential : parallel;
        var body = new ChannelBody(col, g, outer0, outer1, y);
        runner.ForRange(channels, 1, ref body);
    }

    private static void AccumulateChannels(float* col, ConvGeometry g, int outer0, int outer1, float* y, int c0, int c1)
    {
        int rank = g.Rank;
        int last = rank - 1;
        int inLast = g.Input[last];
        int outLast = g.Output[last];
        int strideLast = g.Strides[last];
        int width = (outer1 - outer0) * inLast;
        Span<int> tap = stackalloc int[rank];
        Span<int> position = stackalloc int[rank];

        // A last axis of kernel 2, stride 2, no dilation and no padding at its start (the 2x upsampling of a DB text
        // detector's head): its two taps fill the even and the odd positions of one output row, which take them as one
        // interleaved vector run. Each output still gets its taps in k order, one addition each: the same bits.
        bool pairs = strideLast == 2 && g.Kernel[last] == 2 && g.Dilations[last] == 1 && g.PadBegin[last] == 0 && outLast >= 2 * inLast;
        for (int c = c0; c < c1; c++)
        {
            float* channel = y + (long)c * g.OutputSize;
            for (int k = 0; k < g.KernelSize; k++)
            {
                Im2Col.Decompose(k, g.Kernel, tap);
                bool pair = pairs && tap[last] == 0;
                int offLast = tap[last] * g.Dilations[last] - g.PadBegin[last];
                (int lo, int hi) = pair ? (0, inLast) : Im2Col.ValidRange(offLast, strideLast, outLast, inLast);
                if (lo >= hi)
                {
                    continue;
                }

                float* srcRow = col + ((long)c * g.KernelSize + k) * width;
                for (int o = outer0; o < outer1; o++)
                {
                    int rest = o;
                    for (int d = last - 1; d >= 0; d--)
                    {
                        position[d] = rest % g.Input[d];
                        rest /= g.Input[d];
                    }

                    long baseOffset = 0;
                    long outStride = outLast;
                    bool inside = true;
                    for (int d = last - 1; d >= 0; d--)
                    {
                        int p = position[d] * g.Strides[d] - g.PadBegin[d] + tap[d] * g.Dilations[d];
                        if ((uint)p >= (uint)g.Output[d])
                        {
                            inside = false;
                            break;
                        }

                        baseOffset += p * outStride;
                        outStride *= g.Output[d];
                    }

                    if (!inside)
                    {
                        continue;
                    }

                    float* src = srcRow + (long)(o - outer0) * inLast;
                    float* dst = channel + baseOffset + offLast;
                    if (pair)
                    {
                        AddInterleaved(src, src + width, dst, inLast);
                    }
                    else if (strideLast == 1)
                    {
                        var run = new Span<float>(dst + lo, hi - lo);
                        TensorPrimitives.Add(new ReadOnlySpan<float>(src + lo, hi - lo), run, run);
                    }
                    else
                    {
                        for (int iw = lo; iw < hi; iw++)
                        {
                            dst[(long)iw * strideLast] += src[iw];
                        }
                    }
                }

                if (pair)
                {
                    // The odd tap went with it.
                    k++;
                }
            }
        }
    }

    /// <summary>dst[2 i] += even[i], dst[2 i + 1] += odd[i] for i &lt; n.</summary>
    private static void AddInterleaved(float* even, float* odd, float* dst, int n)
    {
        int i = 0;
        if (Avx.IsSupported && Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var a = Vector256.Load(even + i);
                var b = Vector256.Load(odd + i);

                // Per 128-bit lane: a0 b0 a1 b1 | a4 b4 a5 b5 and a2 b2 a3 b3 | a6 b6 a7 b7, then the lanes put in order.
                var low = Avx.UnpackLow(a, b);
                var high = Avx.UnpackHigh(a, b);
                float* d = dst + 2 * i;
                Vector256.Store(Vector256.Load(d) + Avx.Permute2x128(low, high, 0x20), d);
                Vector256.Store(Vector256.Load(d + 8) + Avx.Permute2x128(low, high, 0x31), d + 8);
            }
        }
        else if (Sse.IsSupported && Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                var a = Vector128.Load(even + i);
                var b = Vector128.Load(odd + i);
                float* d = dst + 2 * i;
                Vector128.Store(Vector128.Load(d) + Sse.UnpackLow(a, b), d);
                Vector128.Store(Vector128.Load(d + 4) + Sse.UnpackHigh(a, b), d + 4);
            }
        }

        for (; i < n; i++)
        {
            dst[2 * i] += even[i];
            dst[2 * i + 1] += odd[i];
        }
    }

    private readonly struct ChannelBody(float* col, ConvGeometry g, int outer0, int outer1, float* y) : IRangeBody
    {
        public void Invoke(int start, int end) => AccumulateChannels(col, g, outer0, outer1, y, start, end);
    }
}
