using Tessera.Tensors;
using Tessera.Tests.Kernels.Pooling;
using static Tessera.Tests.Kernels.Pooling.KernelHarness;

namespace Tessera.Tests.Kernels.Normalization;

/// <summary>The SIMD/threaded normalization kernels against straightforward double-precision references.</summary>
public sealed class NormalizationReferenceTests
{
    private static readonly int[][] Shapes =
        [[1, 1], [3, 5], [2, 3, 1], [2, 3, 7], [1, 4, 5, 5], [2, 3, 13, 17], [1, 2, 3, 4, 5], [4, 16, 33], [1, 3, 257]];

    public static TheoryData<DataType, int> TypesAndDegrees() => new()
    {
        { DataType.Float32, 1 }, { DataType.Float32, 2 }, { DataType.Float64, 1 }, { DataType.Float64, 2 }, { DataType.Float16, 2 },
    };

    [Theory]
    [MemberData(nameof(TypesAndDegrees))]
    public void LayerNormalizationMatchesReference(DataType type, int degree)
    {
        var random = new Random(degree * 31 + (int)type);
        foreach (int[] shape in Shapes)
        {
            for (int axis = -shape.Length; axis < shape.Length; axis++)
            {
                int a = axis < 0 ? axis + shape.Length : axis;
                int rows = ShapeMath.Product(shape, 0, a), size = ShapeMath.Product(shape, a, shape.Length);

                // Scale over the full normalized shape; bias only over the last axis (broadcast), or absent.
                int[] normalized = shape[a..];
                Tensor x = RandomTensor(random, type, shape);
                Tensor scale = RandomTensor(random, type, normalized);
                bool withBias = axis % 2 == 0;
                Tensor? bias = withBias ? RandomTensor(random, type, [shape[^1]]) : null;
                double[] xs = ToDoubles(x), ss = ToDoubles(scale), bs = bias is null ? new double[shape[^1]] : ToDoubles(bias);
                var expected = new double[xs.Length];
                var means = new double[rows];
                var inverse = new double[rows];
                for (int r = 0; r < rows; r++)
                {
                    double mean = 0, variance = 0;
                    for (int i = 0; i < size; i++) mean += xs[r * size + i];
                    mean /= size;
                    for (int i = 0; i < size; i++) variance += (xs[r * size + i] - mean) * (xs[r * size + i] - mean);
                    variance /= size;
                    double inv = 1 / Math.Sqrt(variance + (double)1e-3f);
                    for (int i = 0; i < size; i++)
                    {
                        expected[r * size + i] = (xs[r * size + i] - mean) * inv * ss[i] + bs[i % shape[^1]];
                    }

                    means[r] = mean;
                    inverse[r] = inv;
                }

                var outputs = Run("LayerNormalization", 17, [Int("axis", axis), Float("epsilon", 1e-3f)], [x, scale, bias], 3, degree,
                    constants: [false, true, false]);
                double tolerance = type == DataType.Float16 ? 5e-3 : type == DataType.Float32 ? 1e-4 : 1e-10;
                string what = $"LayerNormalization {ShapeMath.Format(shape)} axis {axis}";
                Assert.Equal(type, outputs[0]!.DataType);
                AssertClose(expected, ToDoubles(outputs[0]!), tolerance, tolerance, what);
                AssertClose(means, ToDoubles(outputs[1]!), tolerance, tolerance, what + " Mean");
                AssertClose(inverse, ToDoubles(outputs[2]!), tolerance, tolerance, what + " InvStdDev");
                int[] statShape = [.. shape[..a], .. Enumerable.Repeat(1, shape.Length - a)];
                Assert.Equal(statShape, outputs[1]!.Shape);
                Assert.Equal(type == DataType.Float64 ? DataType.Float64 : DataType.Float32, outputs[1]!.DataType);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndDegrees))]
    public void InstanceNormalizationMatchesReference(DataType type, int degree)
    {
        var random = new Random(degree * 17 + (int)type);
        foreach (int[] shape in Shapes.Where(s => s.Length >= 3))
        {
            int channels = shape[1], size = ShapeMath.Product(shape, 2, shape.Length);
            Tensor x = RandomTensor(random, type, shape);
            Tensor scale = RandomTensor(random, type, [channels]);
            Tensor bias = RandomTensor(random, type, [channels]);
            double[] xs = ToDoubles(x), ss = ToDoubles(scale), bs = ToDoubles(bias);
            var expected = new double[xs.Length];
            for (int p = 0; p < xs.Length / size; p++)
            {
                var plane = xs.AsSpan(p * size, size).ToArray();
                double mean = plane.Average();
                double variance = plane.Select(v => (v - mean) * (v - mean)).Average();
                for (int i = 0; i < size; i++)
                {
                    expected[p * size + i] = (plane[i] - mean) / Math.Sqrt(variance + (double)1e-5f) * ss[p % channels] + bs[p % channels];
                }
            }

            var y = Run("InstanceNormalization", 6, [], [x, scale, bias], 1, degree)[0]!;
            double tolerance = type == DataType.Float16 ? 5e-3 : type == DataType.Float32 ? 2e-4 : 1e-10;
            AssertClose(expected, ToDoubles(y), tolerance, tolerance, $"InstanceNormalization {ShapeMath.Format(shape)}");
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndDegrees))]
    public void BatchNormalizationMatchesReference(DataType type, int degree)
    {
        var random = new Random(degree * 13 + (int)type);
        foreach (int[] shape in Shapes)
        {
            foreach (bool constant in (bool[])[false, true])
            {
                foreach (int opset in (int[])[7, 9, 14, 15])
                {
                    int channels = shape[1], size = ShapeMath.Product(shape, 2, shape.Length);
                    Tensor x = RandomTensor(random, type, shape);
                    Tensor[] p = [.. Enumerable.Range(0, 4).Select(_ => RandomTensor(random, type, [channels]))];
                    double[] xs = ToDoubles(x), s = ToDoubles(p[0]), b = ToDoubles(p[1]), m = ToDoubles(p[2]);
                    double[] v = ToDoubles(p[3]).Select(Math.Abs).ToArray();
                    p[3] = type switch
                    {
                        DataType.Float64 => Tensor.FromArray(v, channels),
                        DataType.Float16 => Tensor.FromArray(v.Select(d => (Half)d).ToArray(), channels),
                        _ => Tensor.FromArray(v.Select(d => (float)d).ToArray(), channels),
                    };
                    v = ToDoubles(p[3]);
                    double[] expected = xs.Select((value, i) =>
                    {
                        int c = i / size % channels;
                        return (value - m[c]) / Math.Sqrt(v[c] + (double)1e-2f) * s[c] + b[c];
                    }).ToArray();
                    var y = Run("BatchNormalization", opset, [Float("epsilon", 1e-2f)], [x, .. p], 1, degree,
                        constants: [false, constant, constant, constant, constant])[0]!;
                    double tolerance = type == DataType.Float16 ? 5e-3 : type == DataType.Float32 ? 1e-4 : 1e-10;
                    AssertClose(expected, ToDoubles(y), tolerance, tolerance, $"BatchNormalization {ShapeMath.Format(shape)} opset {opset}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void BatchNormalizationTrainingMatchesReference(int degree)
    {
        var random = new Random(degree);
        foreach (int[] shape in Shapes.Where(s => s.Length >= 3))
        {
            int channels = shape[1], size = ShapeMath.Product(shape, 2, shape.Length), batch = shape[0];
            Tensor x = RandomTensor(random, DataType.Float32, shape);
            Tensor[] p = [.. Enumerable.Range(0, 4).Select(_ => RandomTensor(random, DataType.Float32, [channels]))];
            p[3] = Tensor.FromArray(p[3].ToArray<float>().Select(Math.Abs).ToArray(), channels);
            double[] xs = ToDoubles(x), s = ToDoubles(p[0]), b = ToDoubles(p[1]), rm = ToDoubles(p[2]), rv = ToDoubles(p[3]);
            var mean = new double[channels];
            var variance = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                var values = Enumerable.Range(0, batch).SelectMany(n => xs.Skip((n * channels + c) * size).Take(size)).ToArray();
                mean[c] = values.Average();
                variance[c] = values.Select(t => (t - mean[c]) * (t - mean[c])).Average();
            }

            double[] expected = xs.Select((value, i) =>
            {
                int c = i / size % channels;
                return (value - mean[c]) / Math.Sqrt(variance[c] + (double)1e-5f) * s[c] + b[c];
            }).ToArray();
            var outputs = Run("BatchNormalization", 15, [Int("training_mode", 1), Float("momentum", 0.8f)], [x, .. p], 3, degree);
            string what = $"BatchNormalization training {ShapeMath.Format(shape)}";
            AssertClose(expected, ToDoubles(outputs[0]!), 1e-4, 1e-4, what);
            AssertClose(rm.Select((r, c) => r * 0.8 + mean[c] * 0.2).ToArray(), ToDoubles(outputs[1]!), 1e-5, 1e-4, what + " running mean");
            AssertClose(rv.Select((r, c) => r * 0.8 + variance[c] * 0.2).ToArray(), ToDoubles(outputs[2]!), 1e-5, 1e-4, what + " running var");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void BatchNormalizationPerElementMatchesReference(int degree)
    {
        // Opset 7 spatial=0: statistics per (channel, position) rather than per channel.
        var random = new Random(degree + 40);
        int[] shape = [3, 4, 5, 3];
        int inner = 4 * 5 * 3;
        Tensor x = RandomTensor(random, DataType.Float32, shape);
        Tensor[] p = [.. Enumerable.Range(0, 4).Select(_ => RandomTensor(random, DataType.Float32, [4, 5, 3]))];
        p[3] = Tensor.FromArray(p[3].ToArray<float>().Select(Math.Abs).ToArray(), 4, 5, 3);
        double[] xs = ToDoubles(x), s = ToDoubles(p[0]), b = ToDoubles(p[1]), m = ToDoubles(p[2]), v = ToDoubles(p[3]);
        double[] expected = xs.Select((value, i) =>
        {
            int j = i % inner;
            return (value - m[j]) / Math.Sqrt(v[j] + (double)1e-5f) * s[j] + b[j];
        }).ToArray();
        var y = Run("BatchNormalization", 7, [Int("spatial", 0)], [x, .. p], 1, degree)[0]!;
        AssertClose(expected, ToDoubles(y), 1e-4, 1e-4, "BatchNormalization spatial=0");
    }

    [Fact]
    public void BadInputsThrowKernelException()
    {
        var x = Tensor.FromArray(new float[12], 1, 3, 4);
        var wrong = Tensor.FromArray(new float[2], 2);
        var right = Tensor.FromArray(new float[3], 3);
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("BatchNormalization", 15, [], [x, wrong, right, right, right], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("InstanceNormalization", 6, [], [x, wrong, right], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("LayerNormalization", 17, [], [x, wrong], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("LayerNormalization", 17, [Int("axis", 3)], [x, right], 1));
    }
}
