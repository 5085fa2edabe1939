using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Indexing;

public class PadTests
{
    public static IEnumerable<object[]> Cases()
    {
        string[] modes = ["constant", "edge", "reflect", "wrap"];
        int[][] shapes = [[5], [3, 4], [2, 3, 5], [4, 67, 129]];
        foreach (var shape in shapes)
        {
            foreach (string mode in modes)
            {
                foreach (int degree in (int[])[1, 2])
                {
                    yield return [shape, mode, degree];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScalarReference(int[] shape, string mode, int degree)
    {
        var random = new Random(shape.Length * 7 + mode.Length + degree);
        int rank = shape.Length;
        var pads = new long[2 * rank];
        for (int d = 0; d < rank; d++)
        {
            // Negative pads crop; keep at least one element and, for reflect, stay within one reflection.
            int limit = Math.Min(shape[d] - 1, 3);
            pads[d] = random.Next(-Math.Min(1, limit), limit + 1);
            pads[d + rank] = random.Next(0, limit + 1);
        }

        var data = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(i => (float)i).ToArray();
        var input = Tensor.FromArray(data, shape);
        var output = Run("Pad", 13, [input, Tensor.FromArray(pads, 2 * rank), Tensor.Scalar(-7f)], degree, String("mode", mode));
        var expected = Reference(data, shape, pads, mode, -7f, out int[] outShape);
        Assert.Equal(outShape, output.Shape);
        Assert.Equal(expected, output.ToArray<float>());

        // The opset 2 attribute form gives the same result.
        var legacy = Run("Pad", 2, [input], degree, String("mode", mode), Ints("pads", pads), Float("value", -7f));
        Assert.Equal(expected, legacy.ToArray<float>());
    }

    [Fact]
    public void PadsSelectedAxesAndOtherElementTypes()
    {
        var input = Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var output = Run("Pad", 18, [input, Tensor.FromArray(new long[] { 1, 2 }, 2), Tensor.Scalar(9L), Tensor.FromArray(new long[] { -1 }, 1)]);
        Assert.Equal([2, 6], output.Shape);
        Assert.Equal([9L, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9], output.ToArray<long>());
    }

    private static float[] Reference(float[] data, int[] shape, long[] pads, string mode, float value, out int[] outShape)
    {
        int rank = shape.Length;
        outShape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            outShape[d] = (int)(shape[d] + pads[d] + pads[d + rank]);
        }

        var result = new float[ShapeMath.ElementCount(outShape)];
        int[] inStrides = ShapeMath.Strides(shape);
        int[] outStrides = ShapeMath.Strides(outShape);
        for (int p = 0; p < result.Length; p++)
        {
            int source = 0;
            bool constant = false;
            for (int d = 0; d < rank; d++)
            {
                long i = p / outStrides[d] % outShape[d] - pads[d];
                int n = shape[d];
                if (i < 0 || i >= n)
                {
                    switch (mode)
                    {
                        case "constant": constant = true; break;
                        case "edge": i = i < 0 ? 0 : n - 1; break;
                        case "wrap": i = ((i % n) + n) % n; break;
                        default: i = i < 0 ? -i : 2 * (n - 1) - i; break;
                    }
                }

                source += (int)i * inStrides[d];
            }

            result[p] = constant ? value : data[source];
        }

        return result;
    }
}
