using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Pooling;

/// <summary>The optimised pooling paths (separable rows, stride-1 span shifts, stride-2 deinterleave, threads) against a per-output scalar reference.</summary>
public sealed class PoolingReferenceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomPoolsMatchReference(int seed)
    {
        var random = new Random(seed);
        int done = 0;
        while (done < 60)
        {
            PoolCase c = RandomCase(random);
            if (Check(c, DataType.Float32, random))
            {
                done++;
            }
        }
    }

    [Theory]
    [InlineData(true, 2, 2, 0)]
    [InlineData(true, 3, 2, 1)]
    [InlineData(true, 3, 2, 0)]
    [InlineData(true, 3, 1, 1)]
    [InlineData(true, 2, 1, 0)]
    [InlineData(false, 2, 2, 0)]
    [InlineData(false, 3, 2, 1)]
    [InlineData(false, 3, 1, 1)]
    [InlineData(false, 5, 1, 2)]
    public void CommonWindowsMatchReferenceOverWidths(bool max, int kernel, int stride, int pad)
    {
        var random = new Random(kernel * 100 + stride * 10 + pad);
        foreach (int width in (int[])[3, 4, 7, 8, 9, 10, 11, 15, 16, 17, 18, 19, 31, 33, 56, 57, 112])
        {
            foreach (bool ceil in (bool[])[false, true])
            {
                var c = new PoolCase(max, [1, 3, Math.Max(kernel, width / 2 + 1), width], [kernel, kernel], [stride, stride], [1, 1],
                    [pad, pad, pad, pad], "NOTSET", ceil, CountIncludePad: pad == 1, ColumnMajor: false);
                Assert.True(Check(c, DataType.Float32, random), c.ToString());
            }
        }
    }

    [Theory]
    [InlineData(DataType.Float64)]
    [InlineData(DataType.Float16)]
    [InlineData(DataType.UInt8)]
    [InlineData(DataType.Int8)]
    public void OtherElementTypesMatchReference(DataType type)
    {
        var random = new Random((int)type);
        int done = 0;
        while (done < 25)
        {
            PoolCase c = RandomCase(random);
            if (!c.Max && type is DataType.UInt8 or DataType.Int8)
            {
                c = c with { Max = true };
            }

            if (Check(c, type, random))
            {
                done++;
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IndicesMatchReference(bool columnMajor)
    {
        var random = new Random(columnMajor ? 7 : 8);
        int done = 0;
        while (done < 40)
        {
            PoolCase c = RandomCase(random) with { Max = true, ColumnMajor = columnMajor };
            if (Check(c, DataType.Float32, random, withIndices: true))
            {
                done++;
            }
        }
    }

    [Fact]
    public void GlobalPoolsMatchReference()
    {
        var random = new Random(11);
        foreach (int[] shape in (int[][])[[1, 1, 1], [2, 3, 7], [1, 5, 4, 4], [3, 2, 13, 17], [1, 4, 2, 3, 5], [2, 70, 33], [1, 2, 1000]])
        {
            foreach (DataType type in (DataType[])[DataType.Float32, DataType.Float64, DataType.Float16])
            {
                Tensor x = KernelHarness.RandomTensor(random, type, shape);
                double[] xs = KernelHarness.ToDoubles(x);
                int planes = shape[0] * shape[1], size = xs.Length / planes;
                double[] mean = Enumerable.Range(0, planes).Select(p => xs.Skip(p * size).Take(size).Average()).ToArray();
                double[] max = Enumerable.Range(0, planes).Select(p => xs.Skip(p * size).Take(size).Max()).ToArray();
                double tolerance = type == DataType.Float16 ? 2e-3 : 1e-5;
                foreach (int degree in (int[])[1, 2])
                {
                    var avg = KernelHarness.Run("GlobalAveragePool", 1, [], [x], 1, degree)[0]!;
                    var mx = KernelHarness.Run("GlobalMaxPool", 1, [], [x], 1, degree)[0]!;
                    int[] expectedShape = [shape[0], shape[1], .. Enumerable.Repeat(1, shape.Length - 2)];
                    Assert.Equal(expectedShape, avg.Shape);
                    Assert.Equal(expectedShape, mx.Shape);
                    KernelHarness.AssertClose(mean, KernelHarness.ToDoubles(avg), tolerance, tolerance, $"GlobalAveragePool {ShapeMath.Format(shape)}");
                    KernelHarness.AssertClose(max, KernelHarness.ToDoubles(mx), 0, 0, $"GlobalMaxPool {ShapeMath.Format(shape)}");
                }
            }
        }
    }

    [Fact]
    public void BadInputsThrowKernelException()
    {
        var x = Tensor.FromArray(new float[16], 1, 1, 4, 4);
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() =>
            KernelHarness.Run("MaxPool", 12, [KernelHarness.Ints("kernel_shape", 5, 5)], [x], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() =>
            KernelHarness.Run("AveragePool", 11, [KernelHarness.Ints("kernel_shape", 2)], [x], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() =>
            KernelHarness.Run("AveragePool", 11, [KernelHarness.Ints("kernel_shape", 2, 2), KernelHarness.Ints("pads", 1, 1)], [x], 1));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() =>
            KernelHarness.Run("AveragePool", 11, [KernelHarness.Ints("kernel_shape", 2, 2), KernelHarness.Ints("dilations", 2, 2)], [x], 1));
    }

    private static bool Check(PoolCase c, DataType type, Random random, bool withIndices = false)
    {
        if (c.Geometry() is null)
        {
            return false;
        }

        Tensor x = KernelHarness.RandomTensor(random, type, c.Shape);
        var (shape, expected, indices) = c.Evaluate(KernelHarness.ToDoubles(x));
        if (expected.Any(v => !double.IsFinite(v)))
        {
            return false; // a window wholly inside padding: no defined answer
        }

        double tolerance = type == DataType.Float16 ? 2e-3 : type == DataType.Float32 ? 1e-5 : 1e-12;
        foreach (int degree in (int[])[1, 2])
        {
            string op = c.Max ? "MaxPool" : "AveragePool";
            int outputs = withIndices ? 2 : 1;
            var result = KernelHarness.Run(op, c.Opset, c.Attributes(), [x], outputs, degree);
            Assert.Equal(shape, result[0]!.Shape);
            Assert.Equal(type, result[0]!.DataType);
            KernelHarness.AssertClose(expected, KernelHarness.ToDoubles(result[0]!), tolerance, tolerance, $"{c} degree {degree}");
            if (withIndices)
            {
                Assert.Equal(indices, result[1]!.ToArray<long>());
            }
        }

        return true;
    }

    private static PoolCase RandomCase(Random random)
    {
        int rank = random.Next(1, 4);
        int[] shape = new int[rank + 2];
        shape[0] = random.Next(1, 3);
        shape[1] = random.Next(1, 4);
        for (int i = 0; i < rank; i++)
        {
            int limit = rank == 3 ? 8 : i == rank - 1 ? 40 : 20;
            shape[i + 2] = random.Next(1, limit + 1);
        }

        int[] kernel = new int[rank], strides = new int[rank], dilations = new int[rank], pads = new int[2 * rank];
        bool dilate = random.Next(4) == 0;
        for (int i = 0; i < rank; i++)
        {
            kernel[i] = random.Next(1, 5);
            strides[i] = random.Next(1, 4);
            dilations[i] = dilate ? random.Next(1, 3) : 1;
            pads[i] = random.Next(0, kernel[i]);
            pads[i + rank] = random.Next(0, kernel[i]);
        }

        string autoPad = random.Next(6) switch { 0 => "VALID", 1 => "SAME_UPPER", 2 => "SAME_LOWER", _ => "NOTSET" };
        return new PoolCase(random.Next(2) == 0, shape, kernel, strides, dilations, pads, autoPad, random.Next(3) == 0,
            random.Next(2) == 0, false);
    }
}
