using Tessera.Tensors;
using static Tessera.Tests.Kernels.Reduction.KernelHarness;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class ArgReduceRandomTests
{
    [Theory]
    [InlineData("ArgMax", 1)]
    [InlineData("ArgMax", 2)]
    [InlineData("ArgMin", 1)]
    [InlineData("ArgMin", 2)]
    public void RandomShapesMatchReference(string op, int degree)
    {
        var random = new Random(op.Length * 13 + degree);
        int[][] fixedShapes = [[40, 2000], [3, 900, 40], [1, 50000], [2000, 30]];
        for (int trial = 0; trial < 100; trial++)
        {
            int rank = random.Next(1, 5);
            int[] shape = trial < fixedShapes.Length ? fixedShapes[trial] : RandomShape(random, rank, 6);
            rank = shape.Length;
            int axis = random.Next(rank);
            bool keepDims = random.Next(2) == 0;
            bool selectLast = random.Next(2) == 0;
            int length = ShapeMath.ElementCount(shape);

            // Few distinct values so ties are common; occasional NaN in the float runs.
            var ints = Enumerable.Range(0, length).Select(_ => random.Next(-4, 5)).ToArray();
            var floats = ints.Select(v => random.Next(200) == 0 ? float.NaN : v).ToArray();
            long[] expectedInts = Reference(ints.Select(v => (double)v).ToArray(), shape, axis, op == "ArgMax", selectLast);
            long[] expectedFloats = Reference(floats.Select(v => (double)v).ToArray(), shape, axis, op == "ArgMax", selectLast);

            var attributes = new[] { Int("axis", random.Next(2) == 0 ? axis : axis - rank), Int("keepdims", keepDims ? 1 : 0), Int("select_last_index", selectLast ? 1 : 0) };
            var outInts = Run(op, 13, attributes, [Tensor.FromArray(ints, shape)], 1, degree)[0];
            var outFloats = Run(op, 13, attributes, [Tensor.FromArray(floats, shape)], 1, degree)[0];

            var expectedShape = (int[])shape.Clone();
            expectedShape[axis] = 1;
            if (!keepDims)
            {
                expectedShape = [.. shape[..axis], .. shape[(axis + 1)..]];
            }

            Assert.Equal(expectedShape, outInts.Shape);
            Assert.Equal(expectedInts, outInts.ToArray<long>());
            Assert.Equal(expectedFloats, outFloats.ToArray<long>());
        }
    }

    [Theory]
    [InlineData("ArgMax")]
    [InlineData("ArgMin")]
    public void SignedZerosCountAsEqual(string op)
    {
        // NumPy sees +0 and -0 as equal, so the first zero wins whatever its sign (the vector search would not).
        var data = Tensor.FromArray(new float[] { -1, 0f, -0f, -2, -0f, 0f, 1, 2 }, 2, 4);
        long[] expected = op == "ArgMax" ? [1, 3] : [3, 0];
        var negated = Tensor.FromArray(new float[] { -0f, -3, 0f, 5, 0f, 0f, -0f, -0f }, 2, 4);
        Assert.Equal(expected, Run(op, 13, [Int("axis", 1), Int("keepdims", 0)], [data], 1, 1)[0].ToArray<long>());
        long[] expectedNegated = op == "ArgMax" ? [3, 0] : [1, 0];
        Assert.Equal(expectedNegated, Run(op, 13, [Int("axis", 1), Int("keepdims", 0)], [negated], 1, 1)[0].ToArray<long>());
    }

    [Fact]
    public void EmptyAxisIsRejected()
    {
        var data = Tensor.FromArray(Array.Empty<float>(), 2, 0);
        var error = Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("ArgMax", 13, [Int("axis", 1)], [data], 1, 1));
        Assert.Contains("size 0", error.Message);
    }

    /// <summary>NumPy semantics: NaN is the extreme; first occurrence wins unless selectLast.</summary>
    private static long[] Reference(double[] data, int[] shape, int axis, bool isMax, bool selectLast)
    {
        int outer = ShapeMath.Product(shape, 0, axis), n = shape[axis], inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        var result = new long[outer * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                int best = -1;
                for (int j = 0; j < n; j++)
                {
                    double v = data[(o * n + j) * inner + c];
                    if (best < 0)
                    {
                        best = j;
                        continue;
                    }

                    double b = data[(o * n + best) * inner + c];
                    bool better = double.IsNaN(b)
                        ? selectLast && double.IsNaN(v)
                        : double.IsNaN(v) || (isMax ? v > b : v < b) || (selectLast && v == b);
                    if (better)
                    {
                        best = j;
                    }
                }

                result[o * inner + c] = best;
            }
        }

        return result;
    }
}
