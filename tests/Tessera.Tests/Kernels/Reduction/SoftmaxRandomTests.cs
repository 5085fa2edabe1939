using Tessera.Tensors;
using static Tessera.Tests.Kernels.Reduction.KernelHarness;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class SoftmaxRandomTests
{
    public static IEnumerable<object[]> Variants() =>
        from op in new[] { "Softmax", "LogSoftmax" }
        from opset in new[] { 11, 13 }
        from degree in new[] { 1, 2 }
        select new object[] { op, opset, degree };

    [Theory]
    [MemberData(nameof(Variants))]
    public void RandomShapesMatchReference(string op, int opset, int degree)
    {
        var random = new Random(op.Length * 31 + opset * 7 + degree);
        int[][] fixedShapes = [[16, 12, 128], [2, 150, 120], [3, 12000], [1, 500, 70], [5, 33, 17]];
        for (int trial = 0; trial < 60; trial++)
        {
            int[] shape = trial < fixedShapes.Length ? fixedShapes[trial] : RandomShape(random, random.Next(1, 5), 7);
            int rank = shape.Length;
            int axis = trial < fixedShapes.Length ? trial % rank : random.Next(rank);
            long axisAttribute = random.Next(2) == 0 ? axis : axis - rank;
            bool useDouble = trial % 3 == 2;
            var data = RandomFloats(random, ShapeMath.ElementCount(shape), scale: trial % 5 == 0 ? 300 : 4);

            var expected = Reference(data.Select(v => (double)v).ToArray(), shape, axis, opset < 13, op == "LogSoftmax");
            var input = useDouble
                ? Tensor.FromArray(data.Select(v => (double)v).ToArray(), shape)
                : Tensor.FromArray(data, shape);
            var output = Run(op, opset, [Int("axis", axisAttribute)], [input], 1, degree)[0];
            Assert.Equal(shape, output.Shape);
            double[] actual = useDouble ? output.ToArray<double>() : output.ToArray<float>().Select(v => (double)v).ToArray();
            double rtol = useDouble ? 1e-10 : 1e-5;
            double atol = (useDouble ? 1e-12 : 1e-6) * (1 + data.Max(v => Math.Abs(v)));
            for (int i = 0; i < actual.Length; i++)
            {
                // x - (max + log(sum)) rounds at the scale of the inputs, hence an absolute allowance proportional to it.
                if (!IsClose(expected[i], actual[i], rtol, atol))
                {
                    Assert.Fail($"{op} opset {opset} shape {ShapeMath.Format(shape)} axis {axis} degree {degree} at {i}: expected {expected[i]}, got {actual[i]}");
                }
            }
        }
    }

    [Fact]
    public void DefaultAxisDependsOnOpset()
    {
        var data = Tensor.FromArray(new float[] { 0, 1, 2, 3, 4, 5 }, 1, 2, 3);
        var v11 = Run("Softmax", 11, [], [data], 1, 1)[0].ToArray<float>();
        var v13 = Run("Softmax", 13, [], [data], 1, 1)[0].ToArray<float>();
        Assert.Equal(1.0, v11.Sum(), 5);
        Assert.Equal(2.0, v13.Sum(), 5);
    }

    private static double[] Reference(double[] x, int[] shape, int axis, bool coerce, bool log)
    {
        int outer = ShapeMath.Product(shape, 0, axis);
        int n = coerce ? ShapeMath.Product(shape, axis, shape.Length) : shape[axis];
        int inner = coerce ? 1 : ShapeMath.Product(shape, axis + 1, shape.Length);
        var y = new double[x.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < n; j++) max = Math.Max(max, x[(o * n + j) * inner + c]);
                for (int j = 0; j < n; j++) sum += Math.Exp(x[(o * n + j) * inner + c] - max);
                for (int j = 0; j < n; j++)
                {
                    int i = (o * n + j) * inner + c;
                    y[i] = log ? x[i] - max - Math.Log(sum) : Math.Exp(x[i] - max) / sum;
                }
            }
        }

        return y;
    }
}
