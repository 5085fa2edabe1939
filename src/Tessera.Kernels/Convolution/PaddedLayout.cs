namespace Tessera.Kernels.Convolution;

/// <summary>
/// A 2-D input plane placed inside a zero border wide enough that every tap of every output position reads inside
/// it: padded[(ih + padTop) * Width + iw + padLeft] = x[ih, iw].
/// </summary>
internal readonly unsafe struct PaddedLayout
{
    private readonly int _top;
    private readonly int _left;

    public PaddedLayout(ConvGeometry g)
    {
        _top = g.PadBegin[0];
        _left = g.PadBegin[1];
        int reachH = (g.Output[0] - 1) * g.Strides[0] + (g.Kernel[0] - 1) * g.Dilations[0] + 1;
        int reachW = (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 1;
        Height = Math.Max(reachH, _top + g.Input[0]);
        Width = Math.Max(reachW, _left + g.Input[1]);
    }

    public int Height { get; }

    public int Width { get; }

    public long Floats => (long)Height * Width;

    /// <summary>Copies the plane x into the interior of padded, whose border is already zero.</summary>
    public void Fill(float* x, float* padded, ConvGeometry g)
    {
        int inH = g.Input[0], inW = g.Input[1];
        for (int ih = 0; ih < inH; ih++)
        {
            new ReadOnlySpan<float>(x + (long)ih * inW, inW).CopyTo(new Span<float>(padded + (long)(ih + _top) * Width + _left, inW));
        }
    }
}
