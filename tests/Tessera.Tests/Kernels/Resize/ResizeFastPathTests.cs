using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Resize;

/// <summary>The NCHW nearest and bilinear paths against a per-element scalar reference written from the spec.</summary>
public class ResizeFastPathTests
{
    private static readonly int[][] InputShapes = [[1, 1, 1, 1], [1, 1, 2, 3], [2, 3, 5, 7], [1, 4, 17, 33], [3, 2, 9, 13], [2, 8, 64, 80]];

    private static readonly double[][] Scales = [[2, 2], [0.5, 0.5], [1.7, 0.6], [3, 1], [1, 2.5]];

    public static IEnumerable<object[]> LinearCases()
    {
        string[] modes = ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"];
        for (int s = 0; s < InputShapes.Length; s++)
        {
            foreach (string mode in modes)
            {
                foreach (int degree in (int[])[1, 2])
                {
                    yield return [s, s % Scales.Length, mode, degree];
                }
            }
        }
    }

    public static IEnumerable<object[]> NearestCases()
    {
        string[] modes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];
        string[] coordinates = ["half_pixel", "asymmetric", "align_corners", "tf_half_pixel_for_nn"];
        for (int s = 0; s < InputShapes.Length; s++)
        {
            for (int m = 0; m < modes.Length; m++)
            {
                foreach (int degree in (int[])[1, 2])
                {
                    yield return [s, (s + m) % Scales.Length, modes[m], coordinates[(s + m) % coordinates.Length], degree];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void BilinearMatchesReference(int shapeIndex, int scaleIndex, string coordinates, int degree)
    {
        int[] shape = InputShapes[shapeIndex];
        double[] scale = Scales[scaleIndex];
        var data = RandomFloats(shape, shapeIndex);
        var scalesTensor = Tensor.FromArray(new float[] { 1, 1, (float)scale[0], (float)scale[1] }, 4);
        var output = Run("Resize", 13, [Tensor.FromArray(data, shape), null, scalesTensor], degree,
            String("mode", "linear"), String("coordinate_transformation_mode", coordinates));
        int outH = (int)Math.Floor(shape[2] * (double)(float)scale[0]);
        int outW = (int)Math.Floor(shape[3] * (double)(float)scale[1]);
        Assert.Equal([shape[0], shape[1], outH, outW], output.Shape);
        var actual = output.ToArray<float>();
        int planes = shape[0] * shape[1];
        for (int p = 0; p < planes; p++)
        {
            for (int oh = 0; oh < outH; oh++)
            {
                double y = Coordinate(coordinates, oh, (float)scale[0], shape[2]);
                for (int ow = 0; ow < outW; ow++)
                {
                    double x = Coordinate(coordinates, ow, (float)scale[1], shape[3]);
                    double expected = Bilinear(data, p, shape[2], shape[3], y, x);
                    float got = actual[(p * outH + oh) * outW + ow];
                    Assert.True(Math.Abs(got - expected) <= 1e-5 + 1e-5 * Math.Abs(expected), $"({p},{oh},{ow}): {got} vs {expected}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(NearestCases))]
    public void NearestMatchesReferenceForFloatAndBytes(int shapeIndex, int scaleIndex, string nearest, string coordinates, int degree)
    {
        int[] shape = InputShapes[shapeIndex];
        double[] scale = Scales[scaleIndex];
        int outH = (int)Math.Max(1, Math.Round(shape[2] * scale[0]));
        int outW = (int)Math.Max(1, Math.Round(shape[3] * scale[1]));
        var sizes = Tensor.FromArray(new long[] { shape[0], shape[1], outH, outW }, 4);
        var floats = RandomFloats(shape, shapeIndex);
        var bytes = floats.Select(f => (byte)(f * 255)).ToArray();
        var floatOut = Run("Resize", 13, [Tensor.FromArray(floats, shape), null, null, sizes], degree,
            String("mode", "nearest"), String("nearest_mode", nearest), String("coordinate_transformation_mode", coordinates)).ToArray<float>();
        var byteOut = Run("Resize", 13, [Tensor.FromArray(bytes, shape), null, null, sizes], degree,
            String("mode", "nearest"), String("nearest_mode", nearest), String("coordinate_transformation_mode", coordinates)).ToArray<byte>();
        int planes = shape[0] * shape[1];
        for (int p = 0; p < planes; p++)
        {
            // The coordinate transform applies to every axis, so even unscaled N and C can shift (tf_half_pixel_for_nn).
            int n = Nearest(nearest, Coordinate(coordinates, p / shape[1], 1, shape[0]), shape[0]);
            int c = Nearest(nearest, Coordinate(coordinates, p % shape[1], 1, shape[1]), shape[1]);
            int sourcePlane = n * shape[1] + c;
            for (int oh = 0; oh < outH; oh++)
            {
                int iy = Nearest(nearest, Coordinate(coordinates, oh, (double)outH / shape[2], shape[2]), shape[2]);
                for (int ow = 0; ow < outW; ow++)
                {
                    int ix = Nearest(nearest, Coordinate(coordinates, ow, (double)outW / shape[3], shape[3]), shape[3]);
                    int source = (sourcePlane * shape[2] + iy) * shape[3] + ix;
                    int target = (p * outH + oh) * outW + ow;
                    Assert.Equal(floats[source], floatOut[target]);
                    Assert.Equal(bytes[source], byteOut[target]);
                }
            }
        }
    }

    [Fact]
    public void LinearOverChannelsTooMatchesPlaneResultWhereChannelsAreIdentity()
    {
        // Resizing the channel axis takes the general separable path; with channel scale 1 both must agree.
        int[] shape = [2, 3, 11, 6];
        var data = RandomFloats(shape, 3);
        var input = Tensor.FromArray(data, shape);
        var planar = Run("Resize", 13, [input, null, Tensor.FromArray(new float[] { 1, 1, 1.5f, 2 }, 4)], 1, String("mode", "linear"));
        var general = Run("Resize", 13, [Tensor.FromArray(data.Select(f => (double)f).ToArray(), shape), null, Tensor.FromArray(new float[] { 1, 1, 1.5f, 2 }, 4)], 1, String("mode", "linear"));
        var a = planar.ToArray<float>();
        var b = general.ToArray<double>();
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) < 1e-5, $"{i}: {a[i]} vs {b[i]}");
        }
    }

    private static float[] RandomFloats(int[] shape, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(_ => random.NextSingle() * 4 - 2).ToArray();
    }

    private static double Coordinate(string mode, int o, double scale, int inSize)
    {
        double resized = scale * inSize;
        return mode switch
        {
            "half_pixel" => (o + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => resized > 1 ? (o + 0.5) / scale - 0.5 : 0,
            "align_corners" => resized == 1 ? 0 : o * (inSize - 1.0) / (resized - 1),
            "tf_half_pixel_for_nn" => (o + 0.5) / scale,
            _ => o / scale,
        };
    }

    private static int Nearest(string mode, double x, int size)
    {
        double f = Math.Floor(x);
        double i = mode switch
        {
            "round_prefer_floor" => x - f <= 0.5 ? f : f + 1,
            "round_prefer_ceil" => x - f < 0.5 ? f : f + 1,
            "floor" => f,
            _ => Math.Ceiling(x),
        };
        return (int)Math.Clamp(i, 0, size - 1);
    }

    private static double Bilinear(float[] data, int plane, int h, int w, double y, double x)
    {
        double y0 = Math.Floor(y), x0 = Math.Floor(x);
        double ty = y - y0, tx = x - x0;
        double At(double r, double c) => data[(plane * h + (int)Math.Clamp(r, 0, h - 1)) * w + (int)Math.Clamp(c, 0, w - 1)];
        return (1 - ty) * ((1 - tx) * At(y0, x0) + tx * At(y0, x0 + 1)) + ty * ((1 - tx) * At(y0 + 1, x0) + tx * At(y0 + 1, x0 + 1));
    }
}
