using System.Numerics;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Elementwise;

/// <summary>Binary kernels against a per-element reference over same-shape, scalar and general broadcasting layouts.</summary>
public sealed class BinaryBroadcastTests
{
    public static TheoryData<int[], int[], int> Layouts() => new()
    {
        { [7], [7], 1 },
        { [33], [33], 2 },
        { [70001], [70001], 2 },
        { [70001], [], 2 },
        { [], [70001], 2 },
        { [1], [67], 1 },
        { [2, 3, 4, 5], [5], 1 },
        { [2, 3, 4, 5], [3, 1, 1], 2 },
        { [2, 1, 4, 1], [1, 3, 1, 5], 1 },
        { [3, 1], [1, 4], 2 },
        { [1, 1], [1], 1 },
        { [0, 3], [3], 1 },
        { [64, 1, 1201], [1, 3, 1201], 2 },
        { [300, 257], [300, 1], 2 },
        { [1, 257], [300, 257], 2 },
        { [40000, 3], [3], 2 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void FloatArithmeticMatchesReference(int[] shapeA, int[] shapeB, int degree)
    {
        Check<float>("Add", shapeA, shapeB, degree, (x, y) => x + y);
        Check<float>("Sub", shapeA, shapeB, degree, (x, y) => x - y);
        Check<float>("Mul", shapeA, shapeB, degree, (x, y) => x * y);
        Check<float>("Div", shapeA, shapeB, degree, (x, y) => x / y, nonZeroB: true);
        Check<float>("Max", shapeA, shapeB, degree, Math.Max);
        Check<float>("Min", shapeA, shapeB, degree, Math.Min);
        Check<float>("Pow", shapeA, shapeB, degree, (x, y) => Math.Pow(Math.Abs(x), y), absA: true);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void OtherTypesMatchReference(int[] shapeA, int[] shapeB, int degree)
    {
        Check<double>("Add", shapeA, shapeB, degree, (x, y) => x + y);
        Check<Half>("Mul", shapeA, shapeB, degree, (x, y) => x * y);
        Check<int>("Sub", shapeA, shapeB, degree, (x, y) => x - y);
        Check<int>("Div", shapeA, shapeB, degree, (x, y) => Math.Truncate(x / y), nonZeroB: true);
        Check<long>("Max", shapeA, shapeB, degree, Math.Max);
        Check<byte>("Add", shapeA, shapeB, degree, (x, y) => x + y);
        Check<short>("Min", shapeA, shapeB, degree, Math.Min);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ComparisonsMatchReference(int[] shapeA, int[] shapeB, int degree)
    {
        CheckComparison<float>("Equal", shapeA, shapeB, degree, (x, y) => x == y);
        CheckComparison<float>("Greater", shapeA, shapeB, degree, (x, y) => x > y);
        CheckComparison<double>("Less", shapeA, shapeB, degree, (x, y) => x < y);
        CheckComparison<int>("GreaterOrEqual", shapeA, shapeB, degree, (x, y) => x >= y);
        CheckComparison<long>("LessOrEqual", shapeA, shapeB, degree, (x, y) => x <= y);
        CheckComparison<byte>("Equal", shapeA, shapeB, degree, (x, y) => x == y);
        CheckComparison<Half>("Greater", shapeA, shapeB, degree, (x, y) => x > y);
    }

    [Fact]
    public void PReluBroadcastsSlopeToInput()
    {
        foreach (int degree in new[] { 1, 2 })
        {
            foreach (var (shapeX, shapeSlope) in new (int[], int[])[] { ([3, 4, 5], [5]), ([2, 3, 4, 5], [3, 1, 1]), ([70003], [1]), ([4, 20000], [4, 1]) })
            {
                var x = Make<float>(shapeX, 1, false, false);
                var slope = Make<float>(shapeSlope, 2, false, false);
                var y = KernelHarness.Run("PRelu", 16, [x, slope], degree).Span<float>();
                for (int i = 0; i < y.Length; i++)
                {
                    float xv = x.Span<float>()[i];
                    float expected = xv < 0 ? xv * slope.Span<float>()[KernelHarness.SourceIndex(shapeX, shapeSlope, i)] : xv;
                    Assert.Equal(expected, y[i]);
                }
            }
        }
    }

    [Fact]
    public void IncompatibleShapesNameBothShapes()
    {
        var e = Assert.Throws<Tessera.Kernels.Core.KernelException>(() =>
            KernelHarness.Run("Add", 14, [Tensor.Allocate(DataType.Float32, [2, 3]), Tensor.Allocate(DataType.Float32, [4])]));
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void LegacyBroadcastAlignsAtAxis()
    {
        var a = Make<float>([2, 3, 4], 1, false, false);
        var b = Make<float>([3], 2, false, false);
        var y = KernelHarness.Run("Add", 6, [a, b], 1, KernelHarness.Int("broadcast", 1), KernelHarness.Int("axis", 1)).Span<float>();
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(a.Span<float>()[i] + b.Span<float>()[i / 4 % 3], y[i]);
        }
    }

    private static void Check<T>(string op, int[] shapeA, int[] shapeB, int degree, Func<double, double, double> reference,
        bool nonZeroB = false, bool absA = false)
        where T : unmanaged, INumber<T>
    {
        var a = Make<T>(shapeA, 11, false, absA);
        var b = Make<T>(shapeB, 12, nonZeroB, false);
        var output = KernelHarness.Run(op, 15, [a, b], degree);
        int[] shape = Tessera.Tensors.ShapeMath.Broadcast(shapeA, shapeB);
        Assert.Equal(shape, output.Shape);
        var y = output.Span<T>();
        var av = a.Span<T>();
        var bv = b.Span<T>();
        for (int i = 0; i < y.Length; i++)
        {
            double x0 = double.CreateTruncating(av[KernelHarness.SourceIndex(shape, shapeA, i)]);
            double y0 = double.CreateTruncating(bv[KernelHarness.SourceIndex(shape, shapeB, i)]);
            double expected = reference(x0, y0);
            T expectedT = ElementIsFloat<T>() ? T.CreateTruncating(expected) : T.CreateTruncating((long)expected);
            double got = double.CreateTruncating(y[i]);
            double want = double.CreateTruncating(expectedT);
            if (!(got == want || Math.Abs(got - want) <= 1e-5 * Math.Abs(want) + 1e-6 || (double.IsNaN(got) && double.IsNaN(want))))
                Assert.Fail($"{op}<{typeof(T).Name}> {Tessera.Tensors.ShapeMath.Format(shapeA)} {Tessera.Tensors.ShapeMath.Format(shapeB)} at {i}: {got} vs {want}");
        }
    }

    private static void CheckComparison<T>(string op, int[] shapeA, int[] shapeB, int degree, Func<T, T, bool> reference)
        where T : unmanaged, INumber<T>
    {
        var a = Make<T>(shapeA, 21, false, false);
        var b = Make<T>(shapeB, 22, false, false);
        var output = KernelHarness.Run(op, 16, [a, b], degree);
        Assert.Equal(DataType.Bool, output.DataType);
        var y = output.Span<byte>();
        var av = a.Span<T>();
        var bv = b.Span<T>();
        int[] shape = output.Shape;
        for (int i = 0; i < y.Length; i++)
        {
            bool expected = reference(av[KernelHarness.SourceIndex(shape, shapeA, i)], bv[KernelHarness.SourceIndex(shape, shapeB, i)]);
            if ((expected ? 1 : 0) != y[i]) Assert.Fail($"{op}<{typeof(T).Name}> at {i}");
        }
    }

    /// <summary>Small integral-ish values so integer types and equality comparisons get frequent ties.</summary>
    internal static Tensor Make<T>(int[] shape, int seed, bool nonZero, bool positive) where T : unmanaged, INumber<T>
    {
        var random = new Random(seed);
        int n = Tessera.Tensors.ShapeMath.ElementCount(shape);
        var data = new T[n];
        bool unsigned = typeof(T) == typeof(byte);
        for (int i = 0; i < n; i++)
        {
            double v = ElementIsFloat<T>() ? Math.Round(random.NextDouble() * 8 - 4, 2) : random.Next(unsigned ? 0 : -9, 10);
            if (positive) v = Math.Abs(v) + 0.25;
            if (nonZero && v == 0) v = 3;
            if (i % 5 == 0 && ElementIsFloat<T>()) v = Math.Round(v);
            data[i] = T.CreateTruncating(v);
        }

        return Tensor.FromArray(data, shape);
    }

    private static bool ElementIsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);
}
