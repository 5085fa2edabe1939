using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Convolution;

/// <summary>ConvTranspose against the direct scatter reference over random configurations.</summary>
public sealed class ConvTransposeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomConfigurationsMatchReference(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(91 + threads);
        int done = 0;
        while (done < 60)
        {
            int rank = 1 + random.Next(3);
            int group = random.Next(3) == 0 ? 2 : 1;
            int maxSize = rank == 3 ? 5 : 9;
            var input = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(maxSize)).ToArray();
            var kernel = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(3)).ToArray();
            var strides = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(3)).ToArray();
            var dilations = Enumerable.Range(0, rank).Select(_ => 1 + random.Next(2)).ToArray();
            var pads = Enumerable.Range(0, 2 * rank).Select(_ => random.Next(3)).ToArray();
            var outputPadding = Enumerable.Range(0, rank).Select(d => random.Next(strides[d])).ToArray();
            int mode = random.Next(4);
            if (random.Next(5) == 0)
            {
                Array.Fill(kernel, 1);
                Array.Fill(strides, 1);
                Array.Fill(pads, 0);
                Array.Fill(outputPadding, 0);
                mode = 0;
            }

            if (Check(parallel, random, 1 + random.Next(2), group, 1 + random.Next(3), 1 + random.Next(3), input, kernel, strides,
                dilations, pads, outputPadding, mode, random.Next(2) == 0, random.Next(2) == 0))
            {
                done++;
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LargeTransposedConvolutionUsesSeveralBands(int threads)
    {
        var random = new Random(3);
        Assert.True(Check(new ParallelRunner(threads), random, 1, 1, 8, 64, [64, 64], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], [0, 0], 0, true, true));
        Assert.True(Check(new ParallelRunner(threads), random, 2, 2, 12, 8, [16, 16], [4, 4], [2, 2], [1, 1], [1, 1, 1, 1], [0, 0], 0, true, false));
    }

    /// <summary>
    /// A last axis of kernel 2 and stride 2 (the 2x upsampling of PP-OCR det's head), whose two taps are scattered as one
    /// interleaved vector run: widths around the vector lengths (8 and 4 pairs), the rows' kernels overlapping or not, an
    /// output_padding, and a start pad that takes the general scatter.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void KernelTwoStrideTwoRowsMatchReference(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(17 + threads);
        foreach (int width in new[] { 1, 3, 4, 7, 8, 9, 12, 16, 17, 23, 40 })
        {
            Assert.True(Check(parallel, random, 1, 1, 3, 2, [2, width], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 0, true, true));
            Assert.True(Check(parallel, random, 2, 1, 2, 3, [3, width], [3, 2], [2, 2], [1, 1], [0, 0, 0, 0], [1, 1], 0, width % 2 == 0, true));
            Assert.True(Check(parallel, random, 1, 2, 2, 1, [2, width], [2, 2], [2, 2], [1, 1], [0, 1, 0, 0], [0, 0], 0, true, false));
        }
    }

    /// <summary>mode 0: explicit pads + output_padding; 1: output_shape; 2: SAME_UPPER; 3: SAME_LOWER.</summary>
    private static bool Check(ParallelRunner parallel, Random random, int batch, int group, int cg, int mg, int[] input, int[] kernel,
        int[] strides, int[] dilations, int[] pads, int[] outputPadding, int mode, bool hasBias, bool constantWeights)
    {
        int rank = input.Length;
        var padBegin = new int[rank];
        var output = new int[rank];
        var requested = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            int natural = strides[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
            if (mode == 0)
            {
                padBegin[d] = pads[d];
                output[d] = natural - pads[d] - pads[d + rank];
                if (output[d] < 1)
                {
                    return false;
                }
            }
            else
            {
                output[d] = mode == 1 ? Math.Max(1, natural - 2 + random.Next(4)) : input[d] * strides[d];
                requested[d] = output[d];
                int total = natural - output[d];
                int half = (int)Math.Floor(total / 2.0);
                padBegin[d] = mode == 2 ? half : total - half;
            }
        }

        int c = cg * group, m = mg * group;
        int[] xShape = [batch, c, .. input];
        int[] wShape = [c, mg, .. kernel];
        var x = KernelHarness.Random(random, ConvReference.Product(xShape));
        var w = KernelHarness.Random(random, ConvReference.Product(wShape));
        var bias = hasBias ? KernelHarness.Random(random, m) : null;
        var attributes = new List<NodeAttribute>
        {
            KernelHarness.Ints("strides", strides.Select(v => (long)v).ToArray()),
            KernelHarness.Ints("dilations", dilations.Select(v => (long)v).ToArray()),
            KernelHarness.Ints("output_padding", outputPadding.Select(v => (long)v).ToArray()),
            KernelHarness.Int("group", group),
        };
        switch (mode)
        {
            case 0:
                attributes.Add(KernelHarness.Ints("pads", pads.Select(v => (long)v).ToArray()));
                break;
            case 1:
                attributes.Add(KernelHarness.Ints("output_shape", requested));
                break;
            default:
                attributes.Add(KernelHarness.String("auto_pad", mode == 2 ? "SAME_UPPER" : "SAME_LOWER"));
                break;
        }

        Tensor?[] inputs = [Tensor.FromArray(x, xShape), Tensor.FromArray(w, wShape), bias is null ? null : Tensor.FromArray(bias, m)];
        var y = KernelHarness.Run("ConvTranspose", 11, KernelHarness.Attributes([.. attributes]), inputs, [false, constantWeights, false], parallel);
        int[] expectedShape = [batch, m, .. output];
        string what = $"ConvTranspose x{ShapeMath.Format(xShape)} w{ShapeMath.Format(wShape)} group={group} strides={ShapeMath.Format(strides)} " +
            $"dilations={ShapeMath.Format(dilations)} pads={ShapeMath.Format(pads)} out_pad={ShapeMath.Format(outputPadding)} mode={mode} const={constantWeights}";
        Assert.True(ShapeMath.SameShape(expectedShape, y.Shape), $"{what}: shape {ShapeMath.Format(y.Shape)}, expected {ShapeMath.Format(expectedShape)}");
        var (values, scale) = ConvReference.ConvTranspose(x, xShape, w, wShape, bias, group, strides, dilations, padBegin, output);
        KernelHarness.AssertClose(y.Span<float>(), values, scale, 1e-5, what);
        return true;
    }
}
