using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Convolution;

/// <summary>Conv against the direct reference over random 1-D/2-D/3-D configurations (groups, depthwise, strides, dilations, pads, auto_pad).</summary>
public sealed class ConvTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomConfigurationsMatchReference(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(77 + threads);
        int checkedCount = 0;
        while (checkedCount < 80)
        {
            int rank = 1 + random.Next(3);
            int group = random.Next(4) switch { 0 => 1, 1 => 2, 2 => 3, _ => 1 };
            int cg = 1 + random.Next(4), mg = 1 + random.Next(3);
            if (random.Next(5) == 0)
            {
                // Depthwise: one input and one output channel per group.
                group = 2 + random.Next(6);
                cg = 1;
                mg = 1;
            }

            int maxSize = rank == 3 ? 6 : 11;
            var input = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(maxSize)).ToArray();
            var kernel = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(3)).ToArray();
            var strides = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(3)).ToArray();
            var dilations = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(2)).ToArray();
            var pads = Enumerable.Range(0, 2 * rank).Select(_ => random.Next(3)).ToArray();
            string autoPad = random.Next(4) switch { 0 => "SAME_UPPER", 1 => "SAME_LOWER", 2 => "VALID", _ => "NOTSET" };
            if (random.Next(4) == 0)
            {
                // Pointwise fast path.
                Array.Fill(kernel, 1);
                Array.Fill(strides, 1);
                Array.Fill(pads, 0);
            }

            if (Check(parallel, random, 1 + random.Next(2), group, cg, mg, input, kernel, strides, dilations, pads, autoPad,
                random.Next(2) == 0, random.Next(2) == 0))
            {
                checkedCount++;
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LargeConvolutionUsesSeveralIm2ColBands(int threads)
    {
        var random = new Random(5);
        Assert.True(Check(new ParallelRunner(threads), random, 1, 1, 64, 8, [64, 64], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], "NOTSET", true, true));
        Assert.True(Check(new ParallelRunner(threads), random, 2, 2, 16, 24, [20, 20], [3, 3], [2, 2], [1, 1], [1, 0, 1, 0], "NOTSET", false, true));
        Assert.True(Check(new ParallelRunner(threads), random, 1, 32, 1, 1, [40, 40], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], "NOTSET", true, true));

        // Strided, dilated and unevenly padded, with several depth and column blocks of the packed GEMM.
        Assert.True(Check(new ParallelRunner(threads), random, 1, 1, 30, 20, [50, 47], [3, 5], [2, 1], [2, 1], [2, 1, 0, 3], "NOTSET", true, false));
        Assert.True(Check(new ParallelRunner(threads), random, 2, 1, 3, 17, [61, 58], [7, 7], [2, 2], [1, 1], [3, 3, 3, 3], "NOTSET", false, true));
    }

    [Fact]
    public void HalfAndDoubleAreStagedThroughFloat()
    {
        var random = new Random(8);
        var x = KernelHarness.Random(random, 2 * 3 * 7 * 6);
        var w = KernelHarness.Random(random, 4 * 3 * 3 * 3);
        var attributes = KernelHarness.Attributes(KernelHarness.Ints("pads", 1, 1, 1, 1));
        var reference = KernelHarness.Run("Conv", 11, attributes, [Tensor.FromArray(x, 2, 3, 7, 6), Tensor.FromArray(w, 4, 3, 3, 3)],
            [false, false], ParallelRunner.Sequential).ToArray<float>();
        var asDouble = KernelHarness.Run("Conv", 11, attributes,
            [Tensor.FromArray(x.Select(v => (double)v).ToArray(), 2, 3, 7, 6), Tensor.FromArray(w.Select(v => (double)v).ToArray(), 4, 3, 3, 3)],
            [false, true], ParallelRunner.Sequential).ToArray<double>();
        var asHalf = KernelHarness.Run("ConvTranspose", 11, [],
            [Tensor.FromArray(x.Select(v => (Half)v).ToArray(), 2, 3, 7, 6), Tensor.FromArray(w.Select(v => (Half)v).ToArray(), 3, 4, 3, 3)],
            [false, false], ParallelRunner.Sequential);
        Assert.Equal(reference.Select(v => (double)v), asDouble);
        Assert.Equal([2, 4, 9, 8], asHalf.Shape);
        Assert.Equal(DataType.Float16, asHalf.DataType);
    }

    private static bool Check(ParallelRunner parallel, Random random, int batch, int group, int cg, int mg, int[] input, int[] kernel,
        int[] strides, int[] dilations, int[] pads, string autoPad, bool hasBias, bool constantWeights)
    {
        int rank = input.Length;
        var padBegin = new int[rank];
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int extent = (kernel[d] - 1) * dilations[d] + 1;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[d] = (input[d] + strides[d] - 1) / strides[d];
                int total = Math.Max(0, (output[d] - 1) * strides[d] + extent - input[d]);
                padBegin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
            }
            else
            {
                int pb = autoPad == "VALID" ? 0 : pads[d], pe = autoPad == "VALID" ? 0 : pads[d + rank];
                padBegin[d] = pb;
                int span = input[d] + pb + pe - extent;
                if (span < 0)
                {
                    return false;
                }

                output[d] = span / strides[d] + 1;
            }
        }

        int c = cg * group, m = mg * group;
        int[] xShape = [batch, c, .. input];
        int[] wShape = [m, cg, .. kernel];
        var x = KernelHarness.Random(random, ConvReference.Product(xShape));
        var w = KernelHarness.Random(random, ConvReference.Product(wShape));
        var bias = hasBias ? KernelHarness.Random(random, m) : null;
        var attributes = new List<NodeAttribute>
        {
            KernelHarness.Ints("strides", strides.Select(v => (long)v).ToArray()),
            KernelHarness.Ints("dilations", dilations.Select(v => (long)v).ToArray()),
            KernelHarness.String("auto_pad", autoPad),
            KernelHarness.Int("group", group),
        };
        if (autoPad == "NOTSET")
        {
            attributes.Add(KernelHarness.Ints("pads", pads.Select(v => (long)v).ToArray()));
        }

        if (random.Next(2) == 0)
        {
            attributes.Add(KernelHarness.Ints("kernel_shape", kernel.Select(v => (long)v).ToArray()));
        }

        Tensor?[] inputs = [Tensor.FromArray(x, xShape), Tensor.FromArray(w, wShape), bias is null ? null : Tensor.FromArray(bias, m)];
        var y = KernelHarness.Run("Conv", 11, KernelHarness.Attributes([.. attributes]), inputs, [false, constantWeights, constantWeights], parallel);
        int[] expectedShape = [batch, m, .. output];
        string what = $"Conv x{ShapeMath.Format(xShape)} w{ShapeMath.Format(wShape)} group={group} strides={ShapeMath.Format(strides)} " +
            $"dilations={ShapeMath.Format(dilations)} pads={ShapeMath.Format(pads)} auto_pad={autoPad} bias={hasBias} const={constantWeights}";
        Assert.True(ShapeMath.SameShape(expectedShape, y.Shape), $"{what}: shape {ShapeMath.Format(y.Shape)}, expected {ShapeMath.Format(expectedShape)}");
        var (values, scale) = ConvReference.Conv(x, xShape, w, wShape, bias, group, strides, dilations, padBegin, output);
        KernelHarness.AssertClose(y.Span<float>(), values, scale, 1e-5, what);
        return true;
    }
}
