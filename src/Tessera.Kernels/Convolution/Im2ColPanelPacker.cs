using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The im2col matrix of one image's group of a 2-D convolution (row = channel and tap, column = output position),
/// written directly as SGEMM B panels: the SGEMM packs each L2-sized block from the input as it needs it, instead
/// of reading a whole explicit im2col matrix back from memory to pack it.
/// </summary>
/// <remarks>
/// One packer per thread (<see cref="For"/>), re-aimed at each image: a packer made per image was the only managed
/// allocation of a steady-state convolution on the im2col path. The SGEMM's helper threads only read it, and the
/// thread that aimed it waits for the whole multiply before aiming it again.
/// </remarks>
internal sealed unsafe class Im2ColPanelPacker : ISgemmBPacker
{
    [ThreadStatic]
    private static Im2ColPanelPacker? t_packer;

    private ConvGeometry _g = null!;
    private float* _x;

    private Im2ColPanelPacker()
    {
    }

    /// <summary>This thread's packer, pointed at the first input channel <paramref name="x"/> of an image's group.</summary>
    public static Im2ColPanelPacker For(ConvGeometry g, float* x)
    {
        var packer = t_packer ??= new Im2ColPanelPacker();
        packer._g = g;
        packer._x = x;
        return packer;
    }

    public void Pack(int pc, int kc, int j0, int nc, int panel0, int panel1, int nr, float* dst)
    {
        var g = _g;
        int inH = g.Input[0], inW = g.Input[1], outW = g.Output[1];
        int kW = g.Kernel[1], sH = g.Strides[0], sW = g.Strides[1];
        for (int kk = 0; kk < kc; kk++)
        {
            int row = pc + kk;
            int c = row / g.KernelSize, tap = row % g.KernelSize;
            int offH = tap / kW * g.Dilations[0] - g.PadBegin[0];
            int offW = tap % kW * g.Dilations[1] - g.PadBegin[1];
            (int lo, int hi) = Im2Col.ValidRange(offW, sW, inW, outW);
            float* plane = _x + (long)c * g.InputSize;
            for (int p = panel0; p < panel1; p++)
            {
                float* d = dst + ((long)p * kc + kk) * nr;
                int j = p * nr;
                int count = Math.Min(nr, nc - j);
                int oh = (j0 + j) / outW, ow = (j0 + j) % outW;
                int t = 0;
                while (t < count)
                {
                    int run = Math.Min(count - t, outW - ow);
                    int ih = oh * sH + offH;
                    if ((uint)ih >= (uint)inH)
                    {
                        new Span<float>(d + t, run).Clear();
                    }
                    else
                    {
                        Segment(plane + (long)ih * inW + offW, ow, run, lo, hi, sW, d + t);
                    }

                    t += run;
                    ow = 0;
                    oh++;
                }

                if (count < nr)
                {
                    new Span<float>(d + Math.Max(count, 0), nr - Math.Max(count, 0)).Clear();
                }
            }
        }
    }

    /// <summary>Output columns [ow, ow + run) of one input row (src[o * stride] for o in [lo, hi), zero elsewhere).</summary>
    private static void Segment(float* src, int ow, int run, int lo, int hi, int stride, float* d)
    {
        int end = ow + run;
        int a = Math.Clamp(lo, ow, end), b = Math.Clamp(hi, a, end);
        if (a > ow)
        {
            new Span<float>(d, a - ow).Clear();
        }

        float* out0 = d + (a - ow);
        if (stride == 1)
        {
            new ReadOnlySpan<float>(src + a, b - a).CopyTo(new Span<float>(out0, b - a));
        }
        else
        {
            float* s = src + (long)a * stride;
            for (int o = 0; o < b - a; o++)
            {
                out0[o] = s[(long)o * stride];
            }
        }

        if (end > b)
        {
            new Span<float>(d + (b - ow), end - b).Clear();
        }
    }
}
