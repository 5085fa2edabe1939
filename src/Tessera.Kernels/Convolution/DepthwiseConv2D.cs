using System.Runtime.Intrinsics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one filter per channel). Each plane is copied into a zero-bordered scratch plane so
/// every tap reads in bounds; unit-stride outputs are then computed a vector of columns at a time with all taps
/// accumulated in a register (one pass over the output instead of one per tap). Planes are split across threads;
/// a fused activation runs on each finished plane.
/// </summary>
internal static unsafe class DepthwiseConv2D
{
    public static void Run(float* x, float* w, float* bias, float* y, int planes, int channels, ConvGeometry g, FusedActivation activation,
        ParallelRunner parallel)
    {
        long work = (long)planes * g.OutputSize * g.KernelSize;
        var runner = work < 1 << 15 ? ParallelRunner.Sequential : parallel;
        var layout = new PaddedLayout(g);
        runner.ForRange(planes, 1, (p0, p1) =>
        {
            // The border stays zero across planes: only the interior is rewritten.
            float* padded = ConvScratch.Get(layout.Floats);
            new Span<float>(padded, (int)layout.Floats).Clear();
            for (int p = p0; p < p1; p++)
            {
                int c = p % channels;
                float* plane = y + (long)p * g.OutputSize;
                layout.Fill(x + (long)p * g.InputSize, padded, g);
                Plane(padded, layout.Width, w + (long)c * g.KernelSize, bias is null ? 0f : bias[c], plane, g);
                activation.Apply(new Span<float>(plane, g.OutputSize));
            }
        });
    }

    private static void Plane(float* src, int width, float* w, float bias, float* y, ConvGeometry g)
    {
        int outH = g.Output[0], outW = g.Output[1];
        int kH = g.Kernel[0], kW = g.Kernel[1];
        int sH = g.Strides[0], sW = g.Strides[1];
        long tapRow = (long)g.Dilations[0] * width;
        int tapColumn = g.Dilations[1];
        for (int oh = 0; oh < outH; oh++)
        {
            float* row = src + (long)oh * sH * width;
            float* dst = y + (long)oh * outW;
            int ow = 0;
            if (sW == 1)
            {
                for (; ow + 8 <= outW; ow += 8)
                {
                    var acc = Vector256.Create(bias);
                    float* s = row + ow;
                    float* wk = w;
                    for (int kh = 0; kh < kH; kh++, s += tapRow)
                    {
                        for (int kw = 0; kw < kW; kw++)
                        {
                            acc = Vector256.FusedMultiplyAdd(Vector256.Load(s + kw * tapColumn), Vector256.Create(*wk++), acc);
                        }
                    }

                    acc.Store(dst + ow);
                }
            }

            for (; ow < outW; ow++)
            {
                float acc = bias;
                float* s = row + (long)ow * sW;
                float* wk = w;
                for (int kh = 0; kh < kH; kh++, s += tapRow)
                {
                    for (int kw = 0; kw < kW; kw++)
                    {
                        acc = MathF.FusedMultiplyAdd(s[kw * tapColumn], *wk++, acc);
                    }
                }

                dst[ow] = acc;
            }
        }
    }
}
