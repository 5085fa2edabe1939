using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one filter per channel): each kernel tap adds a scaled, shifted input row into the
/// output row, a contiguous SIMD multiply-add when the stride is one. Channels are split across threads; a fused
/// activation runs on each finished plane.
/// </summary>
internal static unsafe class DepthwiseConv2D
{
    public static void Run(float* x, float* w, float* bias, float* y, int planes, int channels, ConvGeometry g, FusedActivation activation,
        ParallelRunner parallel)
    {
        long work = (long)planes * g.OutputSize * g.KernelSize;
        var runner = work < 1 << 15 ? ParallelRunner.Sequential : parallel;
        runner.ForRange(planes, 1, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int c = p % channels;
                Plane(x + (long)p * g.InputSize, w + (long)c * g.KernelSize, bias is null ? 0f : bias[c], y + (long)p * g.OutputSize, g);
                activation.Apply(new Span<float>(y + (long)p * g.OutputSize, g.OutputSize));
            }
        });
    }

    private static void Plane(float* x, float* w, float bias, float* y, ConvGeometry g)
    {
        int inH = g.Input[0], inW = g.Input[1];
        int outH = g.Output[0], outW = g.Output[1];
        int kH = g.Kernel[0], kW = g.Kernel[1];
        int sH = g.Strides[0], sW = g.Strides[1];
        new Span<float>(y, g.OutputSize).Fill(bias);
        for (int kh = 0; kh < kH; kh++)
        {
            for (int kw = 0; kw < kW; kw++)
            {
                float weight = w[kh * kW + kw];
                int offW = kw * g.Dilations[1] - g.PadBegin[1];
                int lo = offW >= 0 ? 0 : (-offW + sW - 1) / sW;
                int hi = inW - offW <= 0 ? 0 : Math.Min(outW, (inW - offW + sW - 1) / sW);
                if (lo >= hi)
                {
                    continue;
                }

                for (int oh = 0; oh < outH; oh++)
                {
                    int ih = oh * sH - g.PadBegin[0] + kh * g.Dilations[0];
                    if ((uint)ih >= (uint)inH)
                    {
                        continue;
                    }

                    float* src = x + (long)ih * inW + offW;
                    float* dst = y + (long)oh * outW;
                    if (sW == 1)
                    {
                        var row = new Span<float>(dst + lo, hi - lo);
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(src + lo, hi - lo), weight, row, row);
                    }
                    else
                    {
                        for (int ow = lo; ow < hi; ow++)
                        {
                            dst[ow] += weight * src[(long)ow * sW];
                        }
                    }
                }
            }
        }
    }
}
