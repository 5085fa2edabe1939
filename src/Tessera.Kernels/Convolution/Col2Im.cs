using System.Numerics.Tensors;
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
        for (int c = c0; c < c1; c++)
        {
            float* channel = y + (long)c * g.OutputSize;
            for (int k = 0; k < g.KernelSize; k++)
            {
                Im2Col.Decompose(k, g.Kernel, tap);
                int offLast = tap[last] * g.Dilations[last] - g.PadBegin[last];
                (int lo, int hi) = Im2Col.ValidRange(offLast, strideLast, outLast, inLast);
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
                    if (strideLast == 1)
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
            }
        }
    }

    private readonly struct ChannelBody(float* col, ConvGeometry g, int outer0, int outer1, float* y) : IRangeBody
    {
        public void Invoke(int start, int end) => AccumulateChannels(col, g, outer0, outer1, y, start, end);
    }
}
