using Tessera.Tensors;
using static Tessera.Tests.Kernels.Reduction.KernelHarness;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class CumSumRandomTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomShapesMatchReference(int degree)
    {
        var random = new Random(77 + degree);
        int[][] fixedShapes = [[40, 2000], [3, 500, 64], [2000, 20], [1, 40000]];
        for (int trial = 0; trial < 80; trial++)
        {
            int[] shape = trial < fixedShapes.Length ? fixedShapes[trial] : RandomShape(random, random.Next(1, 5), 6);
            int rank = shape.Length;
            int axis = random.Next(rank);
            bool exclusive = random.Next(2) == 0, reverse = random.Next(2) == 0;
            int length = ShapeMath.ElementCount(shape);
            var ints = Enumerable.Range(0, length).Select(_ => (long)random.Next(-100, 100)).ToArray();
            var expected = Reference(ints, shape, axis, exclusive, reverse);
            var attributes = new[] { Int("exclusive", exclusive ? 1 : 0), Int("reverse", reverse ? 1 : 0) };

            // Axis given as an int32 scalar or an int64 1-D tensor, negative half the time.
            Tensor axisTensor = random.Next(2) == 0
                ? Tensor.Scalar(random.Next(2) == 0 ? axis : axis - rank)
                : Tensor.FromArray(new long[] { random.Next(2) == 0 ? axis : axis - rank }, 1);
            var outInts = Run("CumSum", 14, attributes, [Tensor.FromArray(ints, shape), axisTensor], 1, degree)[0];
            Assert.Equal(expected, outInts.ToArray<long>());

            // Small integers are exact in float32 whatever the order, so the float path must match exactly too.
            var floats = ints.Select(v => (float)v).ToArray();
            var outFloats = Run("CumSum", 14, attributes, [Tensor.FromArray(floats, shape), axisTensor], 1, degree)[0];
            Assert.Equal(expected.Select(v => (float)v).ToArray(), outFloats.ToArray<float>());
        }
    }

    private static long[] Reference(long[] x, int[] shape, int axis, bool exclusive, bool reverse)
    {
        int outer = ShapeMath.Product(shape, 0, axis), n = shape[axis], inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        var y = new long[x.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                // Running sum in the scan direction; an exclusive sum writes before adding.
                long sum = 0;
                for (int step = 0; step < n; step++)
                {
                    int j = reverse ? n - 1 - step : step;
                    int i = (o * n + j) * inner + c;
                    if (exclusive)
                    {
                        y[i] = sum;
                        sum += x[i];
                    }
                    else
                    {
                        sum += x[i];
                        y[i] = sum;
                    }
                }
            }
        }

        return y;
    }
}
