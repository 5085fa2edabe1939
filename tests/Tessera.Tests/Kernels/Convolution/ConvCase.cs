using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Convolution;

/// <summary>One random 2-D Conv (explicit symmetric pads, with bias) with its kernel run and its reference.</summary>
internal sealed class ConvCase
{
    private readonly int _group;
    private readonly int[] _strides;
    private readonly int[] _dilations;
    private readonly int _pad;
    private readonly bool _constantW;

    private ConvCase(Tensor x, Tensor w, Tensor bias, int group, int[] strides, int[] dilations, int pad, bool constantW)
    {
        (X, W, Bias, _group, _strides, _dilations, _pad, _constantW) = (x, w, bias, group, strides, dilations, pad, constantW);
        Attributes = KernelHarness.Attributes(KernelHarness.Int("group", group), KernelHarness.Ints("strides", strides[0], strides[1]),
            KernelHarness.Ints("dilations", dilations[0], dilations[1]), KernelHarness.Ints("pads", pad, pad, pad, pad));
        OutputShape = [x.Shape[0], w.Shape[0], Out(0), Out(1)];
    }

    public Tensor X { get; }

    public Tensor W { get; }

    public Tensor Bias { get; }

    public Dictionary<string, NodeAttribute> Attributes { get; }

    public int[] OutputShape { get; }

    public int OutputLength => ShapeMath.ElementCount(OutputShape);

    public static ConvCase Create(Random random, int batch, int c, int m, int group, int[] input, int[] kernel, int[] strides, int[] dilations,
        int pad, bool constantW)
    {
        int[] xShape = [batch, c, .. input], wShape = [m, c / group, .. kernel];
        return new ConvCase(Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(xShape)), xShape),
            Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(wShape)), wShape),
            Tensor.FromArray(KernelHarness.Random(random, m), m), group, strides, dilations, pad, constantW);
    }

    /// <summary>The same weights on another input.</summary>
    public ConvCase WithInput(Random random, int batch, int[] input)
    {
        int[] xShape = [batch, X.Shape[1], .. input];
        return new ConvCase(Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(xShape)), xShape), W, Bias, _group, _strides,
            _dilations, _pad, _constantW);
    }

    /// <summary>The same weights on images [start, start + count) of this case's input.</summary>
    public ConvCase Images(int start, int count)
    {
        int per = X.Length / X.Shape[0];
        int[] xShape = [count, .. X.Shape[1..]];
        var images = X.ToArray<float>().AsSpan(start * per, count * per).ToArray();
        return new ConvCase(Tensor.FromArray(images, xShape), W, Bias, _group, _strides, _dilations, _pad, _constantW);
    }

    public IKernel CreateKernel(ParallelRunner parallel)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, "Conv", 11, out var factory));
        return factory(new KernelInfo("Conv", string.Empty, 11, "node", 3, 1, Attributes, i => _constantW && i is 1 or 2 ? (i == 1 ? W : Bias) : null, parallel));
    }

    public Tensor Run(ParallelRunner parallel) => Run(CreateKernel(parallel), parallel);

    public Tensor Run(IKernel kernel, ParallelRunner parallel)
    {
        var context = new KernelContext([X, W, Bias], 1, [true], parallel);
        kernel.Compute(context);
        return context.Output(0)!;
    }

    public (double[] Values, double[] Scale) Reference() =>
        ConvReference.Conv(X.ToArray<float>(), X.Shape, W.ToArray<float>(), W.Shape, Bias.ToArray<float>(), _group, _strides, _dilations,
            [_pad, _pad], [OutputShape[2], OutputShape[3]]);

    public void AssertMatches(Tensor y, string what)
    {
        Assert.Equal(OutputShape, y.Shape);
        var (values, scale) = Reference();
        KernelHarness.AssertClose(y.Span<float>(), values, scale, 1e-5,
            $"{what}: x{ShapeMath.Format(X.Shape)} w{ShapeMath.Format(W.Shape)} g{_group} s{ShapeMath.Format(_strides)} d{ShapeMath.Format(_dilations)} p{_pad}");
    }

    private int Out(int d)
    {
        int extent = (W.Shape[d + 2] - 1) * _dilations[d] + 1;
        return (X.Shape[d + 2] + 2 * _pad - extent) / _strides[d] + 1;
    }
}
