using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Linear.KernelHarness;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>ConvInteger and QLinearConv against a direct convolution in 64-bit integers: groups, strides, dilations, padding, 1-3 spatial axes.</summary>
public sealed class IntegerConvTests
{
    public static TheoryData<int[], int[], int, int[], int[], int[]> Geometries() => new()
    {
        // x shape, w shape, group, strides, dilations, pads
        { [1, 3, 9, 8], [5, 3, 3, 3], 1, [1, 1], [1, 1], [1, 1, 1, 1] },
        { [2, 4, 10, 7], [6, 2, 3, 2], 2, [2, 1], [1, 2], [0, 1, 2, 0] },
        { [1, 6, 7, 7], [6, 1, 3, 3], 6, [1, 1], [1, 1], [1, 1, 1, 1] },
        { [1, 8, 5, 5], [20, 8, 1, 1], 1, [1, 1], [1, 1], [0, 0, 0, 0] },
        { [2, 3, 11], [4, 3, 4], 1, [3], [1], [2, 1] },
        { [1, 2, 4, 5, 3], [3, 2, 2, 3, 2], 1, [1, 2, 1], [1, 1, 2], [1, 0, 1, 0, 1, 0] },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ConvIntegerIsExact(int[] xShape, int[] wShape, int group, int[] strides, int[] dilations, int[] pads)
    {
        var random = new Random(xShape.Sum() + wShape.Sum());
        foreach (var (xType, wType) in new[] { (DataType.UInt8, DataType.Int8), (DataType.Int8, DataType.UInt8), (DataType.UInt8, DataType.UInt8), (DataType.Int8, DataType.Int8) })
        {
            var x = RandomTensor(random, xType, xShape);
            var w = RandomTensor(random, wType, wShape);
            var xZero = RandomTensor(random, xType, []);
            var wZero = RandomTensor(random, wType, [wShape[0]]);
            var attributes = Attributes(Int("group", group), Ints("strides", [.. strides.Select(s => (long)s)]),
                Ints("dilations", [.. dilations.Select(d => (long)d)]), Ints("pads", [.. pads.Select(p => (long)p)]));
            foreach (bool constant in new[] { false, true })
            {
                var y = Run("ConvInteger", 10, attributes, [x, w, xZero, wZero], [false, constant], new ParallelRunner(2));
                var expected = Reference(x, w, Values(xZero)[0], Values(wZero), group, strides, dilations, pads, out var shape);
                Assert.Equal(shape, y.Shape);
                Assert.Equal(expected, y.ToArray<int>().Select(v => (long)v).ToArray());
            }
        }
    }

    [Fact]
    public void QLinearConvRequantizesPerChannelWithBias()
    {
        var random = new Random(5);
        int[] xShape = [1, 4, 6, 6], wShape = [8, 4, 3, 3];
        var x = RandomTensor(random, DataType.UInt8, xShape);
        var w = RandomTensor(random, DataType.Int8, wShape);
        var wScale = Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 0.02)).ToArray();
        var bias = Enumerable.Range(0, 8).Select(_ => random.Next(-3000, 3000)).ToArray();
        float xScale = 0.05f, yScale = 0.3f;
        var inputs = new Tensor?[]
        {
            x, Tensor.Scalar(xScale), Tensor.Scalar((byte)120), w, Tensor.FromArray(wScale, 8), Tensor.FromArray(new sbyte[8], 8),
            Tensor.Scalar(yScale), Tensor.Scalar((byte)128), Tensor.FromArray(bias, 8),
        };
        var y = Run("QLinearConv", 10, Attributes(Ints("pads", 1, 1, 1, 1)), inputs, [false, false, false, true], ParallelRunner.Sequential);
        var sums = Reference(x, w, 120, new long[8], 1, [1, 1], [1, 1], [1, 1, 1, 1], out _);
        var actual = y.ToArray<byte>();
        int plane = 36;
        for (int i = 0; i < sums.Length; i++)
        {
            int channel = i / plane;
            float multiplier = xScale * wScale[channel] / yScale;
            int expected = (int)Math.Clamp(MathF.Round((int)(sums[i] + bias[channel]) * multiplier) + 128, 0, 255);
            Assert.Equal(expected, actual[i]);
        }
    }

    [Fact]
    public void ZeroPointOfAnotherTypeIsRefused()
    {
        var x = Tensor.FromArray(new byte[9], 1, 1, 3, 3);
        var w = Tensor.FromArray(new sbyte[4], 1, 1, 2, 2);
        var e = Assert.Throws<KernelException>(() => Run("ConvInteger", 10, [], [x, w, Tensor.Scalar((sbyte)1)], [], ParallelRunner.Sequential));
        Assert.Contains("zero point", e.Message);
    }

    internal static Tensor RandomTensor(Random random, DataType type, int[] shape)
    {
        var bytes = new byte[ShapeMath.ElementCount(shape)];
        random.NextBytes(bytes);
        var t = Tensor.Allocate(type, shape);
        bytes.CopyTo(t.Bytes);
        return t;
    }

    internal static long[] Values(Tensor t) =>
        t.DataType == DataType.Int8 ? t.ToArray<sbyte>().Select(v => (long)v).ToArray() : t.ToArray<byte>().Select(v => (long)v).ToArray();

    private static long[] Reference(Tensor x, Tensor w, long xZero, long[] wZero, int group, int[] strides, int[] dilations, int[] pads, out int[] shape)
    {
        int rank = x.Rank - 2, batch = x.Shape[0], channels = x.Shape[1], m = w.Shape[0], cg = channels / group, mg = m / group;
        var xs = Values(x);
        var ws = Values(w);
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            output[d] = ((x.Shape[d + 2] + pads[d] + pads[d + rank] - (dilations[d] * (w.Shape[d + 2] - 1)) - 1) / strides[d]) + 1;
        }

        shape = [batch, m, .. output];
        int outSize = output.Aggregate(1, (a, b) => a * b), kSize = w.Length / (m * cg), inSize = x.Length / (batch * channels);
        var y = new long[batch * m * outSize];
        for (int n = 0; n < batch; n++)
        {
            for (int co = 0; co < m; co++)
            {
                int g = co / mg;
                for (int o = 0; o < outSize; o++)
                {
                    long sum = 0;
                    for (int ci = 0; ci < cg; ci++)
                    {
                        for (int kk = 0; kk < kSize; kk++)
                        {
                            long wv = ws[(((co * cg) + ci) * kSize) + kk] - wZero[co];
                            int offset = 0, oRem = o, kRem = kk;
                            bool inside = true;
                            var coords = new int[rank];
                            for (int d = rank - 1; d >= 0; d--)
                            {
                                int od = oRem % output[d], kd = kRem % w.Shape[d + 2];
                                oRem /= output[d];
                                kRem /= w.Shape[d + 2];
                                coords[d] = (od * strides[d]) - pads[d] + (kd * dilations[d]);
                                inside &= coords[d] >= 0 && coords[d] < x.Shape[d + 2];
                            }

                            for (int d = 0; d < rank; d++) offset = (offset * x.Shape[d + 2]) + coords[d];
                            long xv = inside ? xs[(((n * channels) + (g * cg) + ci) * inSize) + offset] - xZero : 0;
                            sum += xv * wv;
                        }
                    }

                    y[(((n * m) + co) * outSize) + o] = sum;
                }
            }
        }

        return y;
    }
}
