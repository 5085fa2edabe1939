using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Engine.Optimization;
using Tessera.Tests.Support;

namespace Tessera.Tests.Kernels.Fused;

/// <summary>com.tessera FusedScaleMaskSoftmax against Softmax(X·scale + M) computed plainly in double precision.</summary>
public class ScaleMaskSoftmaxTests
{
    public static TheoryData<int[], int[]?, int> Cases()
    {
        var data = new TheoryData<int[], int[]?, int>();
        foreach (int n in new[] { 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 128 })
        {
            data.Add([2, 3, 4, n], null, 1);
            data.Add([2, 3, 4, n], [2, 1, 1, n], 1);
            data.Add([2, 3, 4, n], [2, 1, 4, n], 1);
            data.Add([2, 3, 4, n], [n], 1);
            data.Add([2, 3, 4, n], [2, 3, 4, 1], 1);
            data.Add([2, 3, 4, n], [2, 3, 4, n], 2);
        }

        data.Add([3, 1, 5], [2, 3, 1, 5], 1);
        data.Add([2, 1, 1], [2, 1, 9], 1);
        data.Add([16, 8, 64, 64], [16, 1, 1, 64], 3);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(int[] xShape, int[]? maskShape, int threads)
    {
        float scale = 0.125f;
        var x = OptimizationHarness.Random(1, xShape);
        var mask = maskShape is null ? null : OptimizationHarness.Random(2, maskShape);
        var attributes = new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", scale) };
        var parallel = threads == 1 ? ParallelRunner.Sequential : new ParallelRunner(threads);
        var y = FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            mask is null ? [x] : [x, mask], [false, false], parallel);

        int[] shape = maskShape is null ? xShape : ShapeMath.Broadcast(xShape, maskShape);
        Assert.Equal(shape, y.Shape);
        var want = Reference(x, mask, shape, scale);
        var got = y.Span<float>();
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-6 + 1e-5 * Math.Abs(want[i]), $"[{i}]: expected {want[i]}, got {got[i]}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RangeOutputIsZeroAndTheLargestValueOfY(int threads)
    {
        // The second output is what an int8 P·V quantizes P with instead of its own pass over P, so it must be exactly
        // min(0, min Y) and max(0, max Y) of the Y written, not an estimate (softmax-range-fusion's tests compare the
        // product's bits; this one the range itself).
        var x = OptimizationHarness.Random(3, 2, 3, 16, 40);
        var mask = OptimizationHarness.Random(4, 2, 1, 1, 40);
        var attributes = new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", 3f) };
        var parallel = threads == 1 ? ParallelRunner.Sequential : new ParallelRunner(threads);
        Assert.True(KernelRegistry.Default.TryResolve(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, out var factory));
        var info = new KernelInfo("FusedScaleMaskSoftmax", TesseraDomain.Name, 1, "node", 2, 2, attributes, _ => null, parallel);
        var context = new KernelContext([x, mask], 2, [true, true], parallel);
        factory(info).Compute(context);

        var y = context.Output(0)!.Span<float>().ToArray();
        var range = context.Output(1)!;
        Assert.Equal([2], range.Shape);
        Assert.Equal(0f, range.Span<float>()[0]);
        Assert.Equal(BitConverter.SingleToInt32Bits(y.Max()), BitConverter.SingleToInt32Bits(range.Span<float>()[1]));
    }

    [Theory]
    [InlineData(1, 40)]
    [InlineData(2, 40)]
    [InlineData(1, 128)]
    [InlineData(2, 131)]
    public void UnnormalisedRowsTimesTheirRowScaleAreTheNormalisedBits(int threads, int n)
    {
        // normalize = 0 (an int8 P·V multiplies the factors in as it quantizes): each value times its row's factor must
        // be the normalised value's bits, the factor the row's largest normalised value, and the range the same.
        var x = OptimizationHarness.Random(3, 2, 3, 16, n);
        var mask = OptimizationHarness.Random(4, 2, 1, 1, n);
        var parallel = threads == 1 ? ParallelRunner.Sequential : new ParallelRunner(threads);
        var normal = Run(new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", 3f) }, [x, mask], 2, parallel);
        var attributes = new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", 3f), ["normalize"] = GraphBuilder.Int("normalize", 0) };
        var unnormalised = Run(attributes, [x, mask], 3, parallel);

        var want = normal.Output(0)!.Span<float>();
        var e = unnormalised.Output(0)!.Span<float>();
        var factors = unnormalised.Output(2)!;
        Assert.Equal([2, 3, 16], factors.Shape);
        var f = factors.Span<float>();
        for (int i = 0; i < want.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(want[i]), BitConverter.SingleToInt32Bits(e[i] * f[i / n]));
        }

        for (int row = 0; row < f.Length; row++)
        {
            float largest = 0;
            for (int j = 0; j < n; j++) largest = MathF.Max(largest, want[(row * n) + j]);
            Assert.Equal(BitConverter.SingleToInt32Bits(largest), BitConverter.SingleToInt32Bits(f[row]));
        }

        Assert.Equal(normal.Output(1)!.Bytes.ToArray(), unnormalised.Output(1)!.Bytes.ToArray());
    }

    [Fact]
    public void UnnormalisedWithoutTheRowScaleOutputIsRefused()
    {
        var attributes = new Dictionary<string, NodeAttribute> { ["normalize"] = GraphBuilder.Int("normalize", 0) };
        Assert.Throws<KernelException>(() => Run(attributes, [OptimizationHarness.Random(1, 2, 8)], 2, ParallelRunner.Sequential));
    }

    private static KernelContext Run(Dictionary<string, NodeAttribute> attributes, Tensor?[] inputs, int outputs, ParallelRunner parallel)
    {
        Assert.True(KernelRegistry.Default.TryResolve(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, out var factory));
        var info = new KernelInfo("FusedScaleMaskSoftmax", TesseraDomain.Name, 1, "node", inputs.Length, outputs, attributes, _ => null, parallel);
        var context = new KernelContext(inputs, outputs, Enumerable.Repeat(true, outputs).ToArray(), parallel);
        factory(info).Compute(context);
        return context;
    }

    [Theory]
    [InlineData(40, false)]
    [InlineData(64, false)]
    [InlineData(128, false)]
    [InlineData(40, true)]
    [InlineData(128, true)]
    public void TheRowMaximumIsFoundWhereverItSits(int n, bool fullMask)
    {
        // One value 1000 above the rest of its row, at every position in turn: the scale-mask-max loops keep several
        // maxima side by side, and a row maximum they missed would make that term's exp overflow (a NaN row) instead
        // of a row that is 1 there and 0 elsewhere. fullMask: a mask row per row (ScaleAddMax); otherwise one value
        // broadcast along the row (ScaleMax with a bias).
        var x = new float[n * n];
        var rest = OptimizationHarness.RandomFloats(n * n, 5, 1f);
        for (int row = 0; row < n; row++)
        {
            for (int j = 0; j < n; j++) x[row * n + j] = j == row ? 1000f : rest[row * n + j];
        }

        var mask = fullMask ? OptimizationHarness.Random(6, 1, n) : OptimizationHarness.Random(6, n, 1);
        var attributes = new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", 1f) };
        var y = FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            [Tensor.FromArray(x, n, n), mask], [false, false], ParallelRunner.Sequential).Span<float>();
        for (int row = 0; row < n; row++)
        {
            for (int j = 0; j < n; j++) Assert.Equal(j == row ? 1f : 0f, y[row * n + j]);
        }
    }

    [Theory]
    [InlineData(40)]
    [InlineData(128)]
    public void NaNScoresMakeTheirRowNaNAndSignedZerosKeepTheBits(int n)
    {
        // The running maximum leaves a NaN score out (one vmaxps on the AVX2 path): the row must still come out NaN
        // everywhere, as Softmax's does, whichever position the NaN has; and a row of zeros gives the same bits with
        // any of them negative, whichever zero the maximum ends as.
        var attributes = new Dictionary<string, NodeAttribute> { ["scale"] = GraphBuilder.Float("scale", 1f) };
        var mask = Tensor.FromArray(new float[n], 1, n);
        var x = OptimizationHarness.RandomFloats(n * n, 8, 1f);
        for (int row = 0; row < n; row++) x[row * n + row] = float.NaN;
        var y = FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            [Tensor.FromArray(x, n, n), mask], [false, false], ParallelRunner.Sequential).Span<float>().ToArray();
        Assert.All(y, v => Assert.True(float.IsNaN(v)));

        var zeros = new float[n * n];
        for (int row = 0; row < n; row++)
        {
            for (int j = 0; j < n; j++) zeros[row * n + j] = (j * 7 + row) % 3 == 0 ? -0f : 0f;
        }

        var plus = FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            [Tensor.FromArray(new float[n * n], n, n), mask], [false, false], ParallelRunner.Sequential).Span<float>().ToArray();
        var mixed = FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            [Tensor.FromArray(zeros, n, n), mask], [false, false], ParallelRunner.Sequential).Span<float>().ToArray();
        Assert.Equal(plus.Select(BitConverter.SingleToInt32Bits), mixed.Select(BitConverter.SingleToInt32Bits));
        Assert.All(plus, v => Assert.Equal(1f / n, v, 1e-7f));
    }

    [Fact]
    public void MaskThatDoesNotBroadcastIsRefused()
    {
        var attributes = new Dictionary<string, NodeAttribute>();
        Assert.Throws<KernelException>(() => FusedActivationHarness.Run(TesseraDomain.Name, "FusedScaleMaskSoftmax", 1, attributes,
            [OptimizationHarness.Random(1, 2, 4), OptimizationHarness.Random(2, 3, 4)], [false, false], ParallelRunner.Sequential));
    }

    private static double[] Reference(Tensor x, Tensor? mask, int[] shape, float scale)
    {
        int n = shape[^1];
        int count = ShapeMath.ElementCount(shape);
        var t = new double[count];
        for (int i = 0; i < count; i++)
        {
            t[i] = At(x, shape, i) * (double)scale + (mask is null ? 0 : At(mask, shape, i));
        }

        for (int row = 0; row < count / n; row++)
        {
            var r = t.AsSpan(row * n, n);
            double max = double.NegativeInfinity;
            foreach (double v in r) max = Math.Max(max, v);
            double sum = 0;
            for (int j = 0; j < n; j++) sum += r[j] = Math.Exp(r[j] - max);
            for (int j = 0; j < n; j++) r[j] /= sum;
        }

        return t;
    }

    // Element `flat` of `shape` read from a tensor that broadcasts onto it.
    private static float At(Tensor tensor, int[] shape, int flat)
    {
        var of = tensor.Shape;
        int offset = shape.Length - of.Length, index = 0, stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            int coordinate = flat % shape[axis];
            flat /= shape[axis];
            if (axis < offset) continue;
            int d = of[axis - offset];
            if (d != 1) index += coordinate * stride;
            stride *= d;
        }

        return tensor.Span<float>()[index];
    }
}
