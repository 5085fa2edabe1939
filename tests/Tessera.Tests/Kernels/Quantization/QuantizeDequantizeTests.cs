using Tessera.Kernels.Core;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Linear.KernelHarness;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear beyond the node suite's few values: ties, saturation, axes, types.</summary>
public sealed class QuantizeDequantizeTests
{
    [Fact]
    public void TiesRoundToEvenAndValuesSaturate()
    {
        // Long enough for every vector path (64 and 32 at a time) and the scalar tail: 172 = 2 x 64 + 32 + 12. With
        // scale 1 every other value is a tie; with 0.25 the ends saturate.
        var x = Enumerable.Range(0, 170).Select(i => (i - 85) * 0.5f).Append(1e9f).Append(-1e9f).ToArray();
        foreach (float scale in new[] { 0.25f, 1f })
        {
            var y = Run("QuantizeLinear", 13, [], [Tensor.FromArray(x, x.Length), Tensor.Scalar(scale), Tensor.Scalar((sbyte)3)], [], new ParallelRunner(2));
            Assert.Equal(DataType.Int8, y.DataType);
            var expected = x.Select(v => (sbyte)Math.Clamp(Math.Round((double)v / scale, MidpointRounding.ToEven) + 3, -128, 127)).ToArray();
            Assert.Equal(expected, y.ToArray<sbyte>());
        }

        var halves = new[] { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f };
        var rounded = Run("QuantizeLinear", 10, [], [Tensor.FromArray(halves, 5), Tensor.Scalar(1f), Tensor.Scalar((byte)10)], [], ParallelRunner.Sequential);
        Assert.Equal(new byte[] { 10, 12, 12, 10, 8 }, rounded.ToArray<byte>());
    }

    [Fact]
    public void PerAxisParametersFollowANegativeAxis()
    {
        var x = Enumerable.Range(0, 24).Select(i => i * 1.3f - 10).ToArray();
        var scales = new[] { 0.1f, 0.2f, 0.4f, 0.8f };
        var zeros = new byte[] { 0, 10, 128, 255 };
        var y = Run("QuantizeLinear", 13, Attributes(Int("axis", -1)),
            [Tensor.FromArray(x, 2, 3, 4), Tensor.FromArray(scales, 4), Tensor.FromArray(zeros, 4)], [], ParallelRunner.Sequential);
        var q = y.ToArray<byte>();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal((byte)Math.Clamp(MathF.Round(x[i] / scales[i % 4]) + zeros[i % 4], 0, 255), q[i]);
        }

        var back = Run("DequantizeLinear", 13, Attributes(Int("axis", 2)), [y, Tensor.FromArray(scales, 4), Tensor.FromArray(zeros, 4)], [], ParallelRunner.Sequential);
        var d = back.ToArray<float>();
        for (int i = 0; i < x.Length; i++) Assert.Equal((q[i] - zeros[i % 4]) * scales[i % 4], d[i]);
    }

    [Fact]
    public void DequantizeTakesInt32AndHalfScales()
    {
        var sums = Tensor.FromArray(new[] { -70000, 0, 12345 }, 3);
        var y = Run("DequantizeLinear", 13, [], [sums, Tensor.Scalar(0.5f)], [], ParallelRunner.Sequential);
        Assert.Equal(new[] { -35000f, 0f, 6172.5f }, y.ToArray<float>());

        var half = Run("DequantizeLinear", 19, [], [Tensor.FromArray(new sbyte[] { -4, 6 }, 2), Tensor.Scalar((Half)0.25f)], [], ParallelRunner.Sequential);
        Assert.Equal(DataType.Float16, half.DataType);
        Assert.Equal(new[] { (Half)(-1f), (Half)1.5f }, half.ToArray<Half>());
    }

    [Fact]
    public void MismatchedParametersAreRefused()
    {
        var x = Tensor.FromArray(new float[6], 2, 3);
        var e = Assert.Throws<KernelException>(() => Run("QuantizeLinear", 13, [], [x, Tensor.FromArray(new[] { 1f, 2f }, 2)], [], ParallelRunner.Sequential));
        Assert.Contains("2 scales for axis 1 of size 3", e.Message);
        e = Assert.Throws<KernelException>(() => Run("DequantizeLinear", 13, [], [Tensor.FromArray(new[] { 1 }, 1), Tensor.Scalar(1f), Tensor.Scalar(2)], [], ParallelRunner.Sequential));
        Assert.Contains("zero point of 0", e.Message);
        e = Assert.Throws<KernelException>(() => Run("QuantizeLinear", 21, Attributes(Int("block_size", 4)), [x, Tensor.Scalar(1f)], [], ParallelRunner.Sequential));
        Assert.Contains("block_size", e.Message);
    }

    [Fact]
    public void DynamicQuantizationOfAllZerosUsesScaleOne()
    {
        var x = Tensor.FromArray(new float[5], 5);
        var registry = KernelRegistry.Default;
        Assert.True(registry.TryResolve(string.Empty, "DynamicQuantizeLinear", 11, out var factory));
        var context = new KernelContext([x], 3, [true, true, true], ParallelRunner.Sequential);
        factory(new KernelInfo("DynamicQuantizeLinear", string.Empty, 11, "n", 1, 3, new Dictionary<string, Tessera.Onnx.Graph.NodeAttribute>(), _ => null, ParallelRunner.Sequential)).Compute(context);
        Assert.Equal(1f, context.Output(1)!.Span<float>()[0]);
        Assert.Equal(0, context.Output(2)!.Span<byte>()[0]);
        Assert.All(context.Output(0)!.ToArray<byte>(), v => Assert.Equal(0, v));
    }
}
