using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Linear;

/// <summary>MatMul (1-D promotion, batch broadcasting, element types) and Gemm (transposes, bias broadcasting, packed B) against references.</summary>
public sealed class MatMulGemmTests
{
    public static TheoryData<int[], int[], int> MatMulShapes() => new()
    {
        { [7], [7], 1 }, { [5], [5, 9], 1 }, { [4, 6], [6], 2 }, { [3, 4, 6], [6], 2 }, { [6], [2, 6, 3], 1 },
        { [2, 3, 5, 8], [8, 20], 2 }, { [2, 1, 5, 8], [3, 8, 33], 2 }, { [4, 17, 40], [1, 40, 19], 1 }, { [30, 1, 4], [30, 4, 2], 2 },
        { [1, 70, 64], [64, 80], 2 }, { [2, 2, 3, 31, 9], [2, 1, 9, 15], 1 }, { [2, 0, 4], [4, 3], 1 }, { [3, 0], [0, 5], 1 },
    };

    [Theory]
    [MemberData(nameof(MatMulShapes))]
    public void MatMulFloatMatchesReference(int[] aShape, int[] bShape, int threads)
    {
        foreach (bool constantB in new[] { false, true })
        {
            var random = new Random(aShape.Sum() * 31 + bShape.Sum());
            var a = KernelHarness.Random(random, ShapeMath.ElementCount(aShape));
            var b = KernelHarness.Random(random, ShapeMath.ElementCount(bShape));
            var y = KernelHarness.Run("MatMul", 13, [], [Tensor.FromArray(a, aShape), Tensor.FromArray(b, bShape)], [false, constantB],
                new ParallelRunner(threads));
            var (shape, expected, scale) = Reference(a.Select(v => (double)v).ToArray(), aShape, b.Select(v => (double)v).ToArray(), bShape);
            Assert.Equal(shape, y.Shape);
            KernelHarness.AssertClose(y.Span<float>(), expected, scale, 1e-5, $"MatMul {ShapeMath.Format(aShape)} x {ShapeMath.Format(bShape)}");
        }
    }

    [Fact]
    public void MatMulOtherTypesMatchReference()
    {
        int[] aShape = [2, 3, 5], bShape = [5, 4];
        var random = new Random(9);
        var ai = Enumerable.Range(0, 30).Select(_ => random.Next(-9, 10)).ToArray();
        var bi = Enumerable.Range(0, 20).Select(_ => random.Next(-9, 10)).ToArray();
        var (shape, expected, _) = Reference(ai.Select(v => (double)v).ToArray(), aShape, bi.Select(v => (double)v).ToArray(), bShape);
        var parallel = new ParallelRunner(2);
        Assert.Equal(expected.Select(v => (int)v), Run(Tensor.FromArray(ai, aShape), Tensor.FromArray(bi, bShape)).ToArray<int>());
        Assert.Equal(expected.Select(v => (long)v), Run(Tensor.FromArray(ai.Select(v => (long)v).ToArray(), aShape),
            Tensor.FromArray(bi.Select(v => (long)v).ToArray(), bShape)).ToArray<long>());
        Assert.Equal(expected, Run(Tensor.FromArray(ai.Select(v => (double)v).ToArray(), aShape),
            Tensor.FromArray(bi.Select(v => (double)v).ToArray(), bShape)).ToArray<double>());
        Assert.Equal(expected.Select(v => (Half)v), Run(Tensor.FromArray(ai.Select(v => (Half)v).ToArray(), aShape),
            Tensor.FromArray(bi.Select(v => (Half)v).ToArray(), bShape)).ToArray<Half>());
        Assert.Equal(shape, Run(Tensor.FromArray(ai, aShape), Tensor.FromArray(bi, bShape)).Shape);

        Tensor Run(Tensor a, Tensor b) => KernelHarness.Run("MatMul", 13, [], [a, b], [false, false], parallel);
    }

    [Theory]
    [InlineData(false, false, 1)]
    [InlineData(true, false, 2)]
    [InlineData(false, true, 1)]
    [InlineData(true, true, 2)]
    public void GemmMatchesReference(bool transA, bool transB, int threads)
    {
        var random = new Random(transA.GetHashCode() * 3 + transB.GetHashCode());
        int[][] biasShapes = [[], [1], [19], [1, 19], [23, 1], [23, 19], [1, 1]];
        foreach (var (m, n, k) in new[] { (23, 19, 37), (1, 19, 8), (23, 19, 300) })
        {
            foreach (var biasShape in biasShapes.Select(s => s.Select(d => d == 23 ? m : d == 19 ? n : d).ToArray()).Append(null))
            {
                float alpha = (float)(random.NextDouble() * 2 - 1), beta = random.Next(3) == 0 ? 0f : (float)(random.NextDouble() * 2 - 1);
                var a = KernelHarness.Random(random, m * k);
                var b = KernelHarness.Random(random, k * n);
                var c = biasShape is null ? null : KernelHarness.Random(random, ShapeMath.ElementCount(biasShape));
                var attributes = KernelHarness.Attributes(KernelHarness.Float("alpha", alpha), KernelHarness.Float("beta", beta),
                    KernelHarness.Int("transA", transA ? 1 : 0), KernelHarness.Int("transB", transB ? 1 : 0));
                Tensor?[] inputs = [Tensor.FromArray(a, transA ? [k, m] : [m, k]), Tensor.FromArray(b, transB ? [n, k] : [k, n]),
                    c is null ? null : Tensor.FromArray(c, biasShape!)];
                var expected = new double[m * n];
                var scale = new double[m * n];
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double sum = 0, abs = 0;
                        for (int p = 0; p < k; p++)
                        {
                            double v = (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                            sum += v;
                            abs += Math.Abs(v);
                        }

                        double bias = 0;
                        if (c is not null)
                        {
                            int rows = biasShape!.Length == 2 ? biasShape[0] : 1, cols = biasShape.Length >= 1 ? biasShape[^1] : 1;
                            bias = c[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
                        }

                        expected[i * n + j] = alpha * sum + beta * bias;
                        scale[i * n + j] = Math.Abs(alpha) * abs + Math.Abs(beta * bias);
                    }
                }

                foreach (bool constantB in new[] { false, true })
                {
                    var y = KernelHarness.Run("Gemm", 13, attributes, inputs, [false, constantB, false], new ParallelRunner(threads));
                    Assert.Equal([m, n], y.Shape);
                    KernelHarness.AssertClose(y.Span<float>(), expected, scale, 1e-5,
                        $"Gemm m={m} n={n} k={k} bias={(biasShape is null ? "none" : ShapeMath.Format(biasShape))} const={constantB}");
                }
            }
        }
    }

    [Fact]
    public void GemmRejectsMissingCBeforeOpset11AndBadBias()
    {
        var a = Tensor.FromArray(new float[6], 2, 3);
        var b = Tensor.FromArray(new float[12], 3, 4);
        Assert.Throws<KernelException>(() => KernelHarness.Run("Gemm", 9, [], [a, b], [], ParallelRunner.Sequential));
        Assert.Throws<KernelException>(() => KernelHarness.Run("Gemm", 13, [], [a, b, Tensor.FromArray(new float[3], 3)], [], ParallelRunner.Sequential));
        Assert.Throws<KernelException>(() => KernelHarness.Run("MatMul", 13, [], [a, a], [], ParallelRunner.Sequential));
    }

    private static (int[] Shape, double[] Values, double[] Scale) Reference(double[] a, int[] aShape, double[] b, int[] bShape)
    {
        int[] a2 = aShape.Length == 1 ? [1, aShape[0]] : aShape;
        int[] b2 = bShape.Length == 1 ? [bShape[0], 1] : bShape;
        int m = a2[^2], k = a2[^1], n = b2[^1];
        var batch = ShapeMath.Broadcast(a2[..^2], b2[..^2]);
        int count = ShapeMath.ElementCount(batch);
        var values = new double[count * m * n];
        var scale = new double[values.Length];
        var index = new int[batch.Length];
        for (int t = 0; t < count; t++)
        {
            int rest = t;
            for (int d = batch.Length - 1; d >= 0; d--)
            {
                index[d] = rest % batch[d];
                rest /= batch[d];
            }

            int aBase = Offset(a2[..^2], index) * m * k, bBase = Offset(b2[..^2], index) * k * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, abs = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double v = a[aBase + i * k + p] * b[bBase + p * n + j];
                        sum += v;
                        abs += Math.Abs(v);
                    }

                    values[(t * m + i) * n + j] = sum;
                    scale[(t * m + i) * n + j] = abs;
                }
            }
        }

        var shape = new List<int>(batch);
        if (aShape.Length > 1)
        {
            shape.Add(m);
        }

        if (bShape.Length > 1)
        {
            shape.Add(n);
        }

        return ([.. shape], values, scale);
    }

    private static int Offset(int[] own, int[] index)
    {
        int offset = 0;
        int shift = index.Length - own.Length;
        for (int d = 0; d < own.Length; d++)
        {
            offset = offset * own[d] + (own[d] == 1 ? 0 : index[d + shift]);
        }

        return offset;
    }
}
