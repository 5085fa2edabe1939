using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Engine.Optimization;
using Tessera.Tests.Support;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>
/// QuantizedMatMul's input 11 "x_row_scale" (an int8 P·V reading the softmax's unnormalised rows and their reciprocal
/// sums): the same bits as the product of the normalised X, each value being the same float multiply e·r, whether the
/// factors are multiplied in while packing (a finite x_range) or X is normalised first (no range, or a NaN one).
/// </summary>
public class QuantizedMatMulRowScaleTests
{
    public enum RangeKind
    {
        Given,
        Absent,
        NaN,
    }

    [Theory]
    [InlineData(false, RangeKind.Given, 1, 0)]
    [InlineData(false, RangeKind.Given, 2, 0)]
    [InlineData(true, RangeKind.Given, 1, 0)]
    [InlineData(true, RangeKind.Given, 2, 0)]
    [InlineData(true, RangeKind.Given, 1, 32)]
    [InlineData(true, RangeKind.Given, 2, 64)]
    [InlineData(false, RangeKind.Absent, 1, 0)]
    [InlineData(true, RangeKind.NaN, 2, 32)]
    public void RowFactorsGiveTheBitsOfTheNormalisedX(bool permuted, RangeKind rangeKind, int threads, int keptBlock)
    {
        // P as a softmax leaves it with normalize = 0: [b, h, m, k] rows of exp values in (0, 1], each row's largest
        // exactly 1, and each row's factor 1/sum; a causal row i keeps (i / 2 + 1) blocks and is +0 after them.
        const int b = 2, h = 3, m = 37, k = 100, d = 24;
        var e = OptimizationHarness.RandomFloats(b * h * m * k, 11, 1f).Select(v => MathF.Exp(MathF.Abs(v) * -4f)).ToArray();
        var factors = new float[b * h * m];
        var kept = new int[m];
        for (int i = 0; i < m; i++) kept[i] = keptBlock == 0 ? k : Math.Min(k, ((i / 2) + 1) * keptBlock);
        for (int row = 0; row < factors.Length; row++)
        {
            int length = kept[row % m];
            e[(row * k) + (row % length)] = 1f;
            for (int j = length; j < k; j++) e[(row * k) + j] = 0f;
            factors[row] = 1f / e.AsSpan(row * k, length).ToArray().Sum();
        }

        if (rangeKind == RangeKind.NaN) factors[5] = float.NaN;
        var normalised = new float[e.Length];
        for (int i = 0; i < e.Length; i++) normalised[i] = i % k < kept[i / k % m] ? e[i] * factors[i / k] : e[i];
        float most = 0;
        foreach (float f in factors) most = MathF.Max(most, f);
        var range = rangeKind == RangeKind.Absent ? null : Tensor.FromArray(new[] { 0f, most }, 2);

        // V as [b, m... ] heads: [b, k, h, d] read as [b, h, k, d] (w_perm) and the result written as [b, m, h, d] (y_perm).
        var v = permuted ? OptimizationHarness.Random(12, b, k, h, d) : OptimizationHarness.Random(12, b, h, k, d);
        var xKept = keptBlock == 0 ? null : Tensor.FromArray(kept, m);
        var want = Run(Tensor.FromArray(normalised, b, h, m, k), v, range, xKept, null, permuted, threads);
        var got = Run(Tensor.FromArray(e, b, h, m, k), v, range, xKept, Tensor.FromArray(factors, b, h, m), permuted, threads);
        Assert.Equal(want.Shape, got.Shape);
        Assert.Equal(want.Bytes.ToArray(), got.Bytes.ToArray());
    }

    [Fact]
    public void RowFactorsOfTheWrongCountOrWithMovedRowsAreRefused()
    {
        var x = OptimizationHarness.Random(1, 1, 2, 8, 16);
        var v = OptimizationHarness.Random(2, 1, 2, 16, 16);
        Assert.Throws<KernelException>(() => Run(x, v, null, null, Tensor.FromArray(new float[15], 15), permuted: false, threads: 1));

        // X = x's axes 1 and 2 swapped ([1, 8, 2, 16]): its rows are 128 values apart, not the factors' 16.
        var attributes = Attributes(permuted: false);
        attributes["x_perm"] = GraphBuilder.Ints("x_perm", 0, 2, 1, 3);
        var w = OptimizationHarness.Random(3, 1, 8, 16, 4);
        Assert.Equal([1, 8, 2, 4], Run(x, w, null, null, null, attributes, threads: 1).Shape);
        Assert.Throws<KernelException>(() => Run(x, w, null, null, Tensor.FromArray(new float[16], 16), attributes, threads: 1));
    }

    private static Tensor Run(Tensor x, Tensor w, Tensor? range, Tensor? xKept, Tensor? factors, bool permuted, int threads) =>
        Run(x, w, range, xKept, factors, Attributes(permuted), threads);

    private static Tensor Run(Tensor x, Tensor w, Tensor? range, Tensor? xKept, Tensor? factors, Dictionary<string, NodeAttribute> attributes, int threads)
    {
        var parallel = threads == 1 ? ParallelRunner.Sequential : new ParallelRunner(threads);
        Tensor?[] inputs = [x, null, null, w, null, null, null, null, range, null, xKept, factors];
        return Fused.FusedActivationHarness.Run(TesseraDomain.Name, "QuantizedMatMul", TesseraDomain.Version, attributes, inputs, [], parallel);
    }

    private static Dictionary<string, NodeAttribute> Attributes(bool permuted)
    {
        var attributes = new Dictionary<string, NodeAttribute> { ["dynamic"] = GraphBuilder.Int("dynamic", 1) };
        if (permuted)
        {
            attributes["w_perm"] = GraphBuilder.Ints("w_perm", 0, 2, 1, 3);
            attributes["y_perm"] = GraphBuilder.Ints("y_perm", 0, 2, 1, 3);
        }

        return attributes;
    }
}
