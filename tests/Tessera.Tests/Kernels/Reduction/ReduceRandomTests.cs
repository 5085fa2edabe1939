using System.Numerics;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Reduction.KernelHarness;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class ReduceRandomTests
{
    private static readonly string[] Ops = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL2"];

    public static IEnumerable<object[]> OpsAndDegrees() =>
        from op in Ops from degree in new[] { 1, 2 } select new object[] { op, degree };

    // Shapes and axes that reach every path: contiguous rows, wide inner rows, narrow inner rows, alternating
    // blocks (several passes), size-1 axes only, empty reductions, and sizes large enough to split over threads.
    public static IEnumerable<object[]> FixedCases()
    {
        (int[] Shape, long[] Axes)[] cases =
        [
            ([64, 1000], [1]), ([1000, 64], [0]), ([3, 300, 100], [1]), ([2, 40, 3, 300], [1, 3]), ([5, 7000], [1]),
            ([1, 70000], [1]), ([2, 20000, 3], [1]), ([300, 3, 50], [0, 2]), ([7, 1, 5], [1]), ([4, 0, 3], [1]),
            ([4, 0, 3], [0]), ([], []), ([33], []), ([2, 3, 4, 5], [0, 1, 2, 3]), ([2, 3, 4, 5], [-1, -3]),
        ];
        foreach (string op in Ops)
        {
            for (int i = 0; i < cases.Length; i++)
            {
                yield return new object[] { op, i, cases[i].Shape, cases[i].Axes };
            }
        }
    }

    [Theory]
    [MemberData(nameof(FixedCases))]
    public void FixedShapesMatchReference(string op, int caseIndex, int[] shape, long[] axes)
    {
        var random = new Random(1000 + caseIndex);
        foreach (int degree in new[] { 1, 2 })
        {
            CheckFloat<float>(op, shape, axes, keepDims: caseIndex % 2 == 0, degree, random);
            CheckInteger<long>(op, shape, axes, keepDims: true, degree, random);
        }
    }

    [Theory]
    [MemberData(nameof(OpsAndDegrees))]
    public void RandomShapesMatchReference(string op, int degree)
    {
        var random = new Random(op.Length * 97 + degree);
        for (int trial = 0; trial < 80; trial++)
        {
            int rank = random.Next(0, 5);
            int[] shape = RandomShape(random, rank, 6);
            var axes = new List<long>();
            for (int d = 0; d < rank; d++)
            {
                if (random.Next(2) == 0)
                {
                    axes.Add(random.Next(2) == 0 ? d : d - rank);
                }
            }

            bool keepDims = random.Next(2) == 0;
            switch (trial % 4)
            {
                case 0: CheckFloat<float>(op, shape, [.. axes], keepDims, degree, random); break;
                case 1: CheckFloat<double>(op, shape, [.. axes], keepDims, degree, random); break;
                case 2: CheckInteger<int>(op, shape, [.. axes], keepDims, degree, random); break;
                default: CheckInteger<long>(op, shape, [.. axes], keepDims, degree, random); break;
            }
        }
    }

    [Fact]
    public void AxesInputAndNoopFollowTheOpset()
    {
        var data = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var emptyAxes = Tensor.FromArray(Array.Empty<long>(), 0);
        var noop = Run("ReduceSum", 13, [Int("noop_with_empty_axes", 1)], [data, emptyAxes], 1, 1)[0];
        Assert.Equal(data.ToArray<float>(), noop.ToArray<float>());

        var all = Run("ReduceSum", 13, [Int("keepdims", 0)], [data, emptyAxes], 1, 1)[0];
        Assert.Empty(all.Shape);
        Assert.Equal(21f, all.ToArray<float>()[0]);

        var axes = Tensor.FromArray(new long[] { -1 }, 1);
        var maxV18 = Run("ReduceMax", 18, [], [data, axes], 1, 1)[0];
        Assert.Equal(new[] { 2, 1 }, maxV18.Shape);
        Assert.Equal(new[] { 3f, 6f }, maxV18.ToArray<float>());

        var meanV13 = Run("ReduceMean", 13, [Ints("axes", 0), Int("keepdims", 0)], [data], 1, 1)[0];
        Assert.Equal(new[] { 2.5f, 3.5f, 4.5f }, meanV13.ToArray<float>());
    }

    [Fact]
    public void HalfIsComputedInSingle()
    {
        var data = Tensor.FromArray(Enumerable.Range(0, 2048).Select(i => (Half)1).ToArray(), 2, 1024);
        var sum = Run("ReduceSum", 11, [Ints("axes", 1)], [data], 1, 1)[0];
        Assert.Equal(new[] { (Half)1024, (Half)1024 }, sum.ToArray<Half>());
    }

    private static void CheckFloat<T>(string op, int[] shape, long[] axes, bool keepDims, int degree, Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = ShapeMath.ElementCount(shape);
        var data = new T[length];
        for (int i = 0; i < length; i++)
        {
            // Products stay near 1 so long rows neither overflow nor vanish.
            double v = op == "ReduceProd" ? 1 + (random.NextDouble() - 0.5) * 0.01 : (random.NextDouble() * 2 - 1) * 3;
            data[i] = T.CreateTruncating(v);
        }

        var output = RunReduce(op, Tensor.FromArray(data, shape), axes, keepDims, degree);
        var expected = ReduceReference.Compute(op, data.Select(double.CreateTruncating).ToArray(), shape, Mask(shape.Length, axes));
        var actual = output.ToArray<T>();
        Assert.Equal(ExpectedShape(shape, axes, keepDims), output.Shape);
        Assert.Equal(expected.Values.Length, actual.Length);

        // A product's relative error is that of a chain of roundings: about sqrt(length) units in the last place for
        // random factors, and the chains are longest (fewest lanes) on the Vector128 tier. Sums are bounded by their
        // magnitude instead, whose error does not grow with the length that way.
        double relative = op == "ReduceProd"
            ? Math.Max(1e-5, 4 * Math.Sqrt(length / Math.Max(1, actual.Length)) * Math.Pow(2, -24))
            : 1e-5;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected.Values[i], a = double.CreateTruncating(actual[i]);
            if (!(e == a || IsClose(e, a, 0, relative * expected.Magnitude[i] + 1e-6)))
            {
                Assert.Fail($"{op} {typeof(T).Name} shape {ShapeMath.Format(shape)} axes [{string.Join(",", axes)}] degree {degree} at {i}: expected {e}, got {a}");
            }
        }
    }

    private static void CheckInteger<T>(string op, int[] shape, long[] axes, bool keepDims, int degree, Random random)
        where T : unmanaged, IBinaryInteger<T>
    {
        int length = ShapeMath.ElementCount(shape);
        var data = new T[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = T.CreateTruncating(random.Next(-50, 50));
        }

        var output = RunReduce(op, Tensor.FromArray(data, shape), axes, keepDims, degree);
        // Wrapping integer arithmetic is exact in any order, so the results must match bit for bit.
        var expected = ReduceReference.Compute(op, data, shape, Mask(shape.Length, axes)).Values;
        Assert.Equal(expected, output.ToArray<T>());
    }

    private static Tensor RunReduce(string op, Tensor data, long[] axes, bool keepDims, int degree)
    {
        var attributes = new List<NodeAttribute> { Int("keepdims", keepDims ? 1 : 0) };
        if (op == "ReduceSum")
        {
            return Run(op, 13, attributes, [data, Tensor.FromArray(axes, axes.Length)], 1, degree)[0];
        }

        if (axes.Length > 0)
        {
            attributes.Add(Ints("axes", axes));
        }

        return Run(op, 13, attributes, [data], 1, degree)[0];
    }

    private static bool[] Mask(int rank, long[] axes)
    {
        var mask = new bool[rank];
        foreach (long a in axes)
        {
            mask[a < 0 ? a + rank : a] = true;
        }

        if (axes.Length == 0)
        {
            Array.Fill(mask, true);
        }

        return mask;
    }

    private static int[] ExpectedShape(int[] shape, long[] axes, bool keepDims)
    {
        var mask = Mask(shape.Length, axes);
        return shape.Select((d, i) => mask[i] ? (keepDims ? 1 : -1) : d).Where(d => d >= 0).ToArray();
    }
}
