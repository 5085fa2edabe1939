using Tessera.Onnx.Graph;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Reduction.KernelHarness;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class TopKRandomTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomShapesMatchReference(int degree)
    {
        var random = new Random(5 + degree);
        int[][] fixedShapes = [[8, 50000], [3, 2000, 20], [4000, 16], [1, 1000]];
        for (int trial = 0; trial < 120; trial++)
        {
            int[] shape = trial < fixedShapes.Length ? fixedShapes[trial] : RandomShape(random, random.Next(1, 4), 9);
            int rank = shape.Length;
            int axis = trial < fixedShapes.Length ? (trial == 1 ? 1 : rank - 1) : random.Next(rank);
            int n = shape[axis];
            // Mix tiny k (heap path), k = n (full sort) and everything between.
            int k = (trial % 3) switch { 0 => Math.Min(n, random.Next(0, 4)), 1 => n, _ => random.Next(0, n + 1) };
            bool largest = random.Next(2) == 0;
            int length = ShapeMath.ElementCount(shape);
            var ints = Enumerable.Range(0, length).Select(_ => random.Next(-20, 20)).ToArray();
            var (expectedValues, expectedIndices) = Reference(ints, shape, axis, k, largest);

            var attributes = new List<NodeAttribute> { Int("axis", random.Next(2) == 0 ? axis : axis - rank), Int("largest", largest ? 1 : 0) };
            var kTensor = Tensor.FromArray(new long[] { k }, 1);
            var outputs = Run("TopK", 11, attributes, [Tensor.FromArray(ints, shape), kTensor], 2, degree);
            var expectedShape = (int[])shape.Clone();
            expectedShape[axis] = k;
            Assert.Equal(expectedShape, outputs[0].Shape);
            Assert.Equal(expectedValues, outputs[0].ToArray<int>());
            Assert.Equal(expectedIndices, outputs[1].ToArray<long>());

            var floats = ints.Select(v => (float)v).ToArray();
            var floatOutputs = Run("TopK", 11, attributes, [Tensor.FromArray(floats, shape), kTensor], 2, degree);
            Assert.Equal(expectedValues.Select(v => (float)v).ToArray(), floatOutputs[0].ToArray<float>());
            Assert.Equal(expectedIndices, floatOutputs[1].ToArray<long>());
        }
    }

    [Fact]
    public void OpsetOneTakesKFromTheAttribute()
    {
        var data = Tensor.FromArray(new float[] { 3, 1, 4, 1, 5, 9, 2, 6 }, 2, 4);
        var outputs = Run("TopK", 1, [Int("k", 2)], [data], 2, 1);
        Assert.Equal(new float[] { 4, 3, 9, 6 }, outputs[0].ToArray<float>());
        Assert.Equal(new long[] { 2, 0, 1, 3 }, outputs[1].ToArray<long>());
    }

    [Fact]
    public void KLargerThanTheAxisIsRejected()
    {
        var data = Tensor.FromArray(new float[] { 1, 2, 3 }, 3);
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("TopK", 11, [], [data, Tensor.FromArray(new long[] { 4 }, 1)], 2, 1));
    }

    /// <summary>Stable sort by value (descending or ascending): equal values keep index order.</summary>
    private static (int[] Values, long[] Indices) Reference(int[] x, int[] shape, int axis, int k, bool largest)
    {
        int outer = ShapeMath.Product(shape, 0, axis), n = shape[axis], inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        var values = new int[outer * k * inner];
        var indices = new long[values.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                var order = Enumerable.Range(0, n).Select(j => (Value: x[(o * n + j) * inner + c], Index: j));
                order = largest ? order.OrderByDescending(e => e.Value) : order.OrderBy(e => e.Value);
                int t = 0;
                foreach (var (value, index) in order.Take(k))
                {
                    values[(o * k + t) * inner + c] = value;
                    indices[(o * k + t) * inner + c] = index;
                    t++;
                }
            }
        }

        return (values, indices);
    }
}
