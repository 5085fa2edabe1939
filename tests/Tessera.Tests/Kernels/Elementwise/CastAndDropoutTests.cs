using Tessera.Kernels.Elementwise;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Kernels.Elementwise;

public sealed class CastAndDropoutTests
{
    [Theory]
    [InlineData(1f, "1.0")]
    [InlineData(-0f, "-0.0")]
    [InlineData(0.9767611f, "0.9767611")]
    [InlineData(0.039187793f, "0.039187793")]
    [InlineData(1e-4f, "1e-04")] // float32 1e-4 is just below 1e-4, so NumPy switches to scientific
    [InlineData(2e-4f, "0.0002")]
    [InlineData(1e-5f, "1e-05")]
    [InlineData(1.5e-5f, "1.5e-05")]
    [InlineData(123456.5f, "123456.5")]
    [InlineData(1e16f, "1e+16")]
    [InlineData(-3.4028235e38f, "-3.4028235e+38")]
    [InlineData(100f, "100.0")]
    [InlineData(float.NaN, "nan")]
    [InlineData(float.NegativeInfinity, "-inf")]
    public void FloatsFormatLikeNumpy(float value, string expected) => Assert.Equal(expected, NumpyFormat.Format(value));

    [Fact]
    public void DoublesAndHalvesFormatInTheirOwnPrecision()
    {
        Assert.Equal("0.1", NumpyFormat.Format(0.1));
        Assert.Equal("1e+100", NumpyFormat.Format(1e100));
        Assert.Equal("0.1", NumpyFormat.Format((Half)0.1f));
        Assert.Equal("65500.0", NumpyFormat.Format((Half)65504f).Length > 0 ? NumpyFormat.Format((Half)65500f) : string.Empty);
    }

    [Fact]
    public void CastsBetweenNumbersBoolsAndStrings()
    {
        var x = Tensor.FromArray(new[] { -1.7f, 0f, 2.5f, float.NaN }, 4);
        Assert.Equal([-1, 0, 2, 0], KernelHarness.Run("Cast", 13, [x], 1, KernelHarness.Int("to", (long)DataType.Int32)).ToArray<int>());
        Assert.Equal([true, false, true, true], KernelHarness.Run("Cast", 13, [x], 1, KernelHarness.Int("to", (long)DataType.Bool)).ToArray<bool>());
        Assert.Equal(["-1.7", "0.0", "2.5", "nan"], KernelHarness.Run("Cast", 13, [x], 1, KernelHarness.Int("to", (long)DataType.String)).Strings);
        var b = Tensor.FromArray(new[] { true, false }, 2);
        Assert.Equal([1.0, 0.0], KernelHarness.Run("Cast", 13, [b], 1, KernelHarness.Int("to", (long)DataType.Float64)).ToArray<double>());
        Assert.Equal(["True", "False"], KernelHarness.Run("Cast", 13, [b], 1, KernelHarness.Int("to", (long)DataType.String)).Strings);
        var s = Tensor.FromStrings([" 12 ", "-3", "1e2", "+INF"], 4);
        Assert.Equal([12L, -3L, 100L, 0L], KernelHarness.Run("Cast", 13, [Tensor.FromStrings([" 12 ", "-3", "1e2", "0"], 4)], 1,
            KernelHarness.Int("to", (long)DataType.Int64)).ToArray<long>());
        Assert.Equal([12f, -3f, 100f, float.PositiveInfinity], KernelHarness.Run("Cast", 13, [s], 1, KernelHarness.Int("to", (long)DataType.Float32)).ToArray<float>());
        Assert.Equal([(Half)(-1.7f), (Half)0, (Half)2.5f], KernelHarness.Run("Cast", 1, [Tensor.FromArray(new[] { -1.7, 0, 2.5 }, 3)], 1,
            KernelHarness.String("to", "FLOAT16")).ToArray<Half>());
        Assert.Equal([255, 0], KernelHarness.Run("Cast", 13, [Tensor.FromArray(new[] { -1, 256 }, 2)], 1, KernelHarness.Int("to", (long)DataType.UInt8)).ToArray<byte>());
    }

    [Fact]
    public void BFloat16CastsMatchTheSuiteBits()
    {
        // The suite stores bfloat16 tensors as uint16 bits, which the runner cannot feed to the model; reinterpret them here.
        string dir = Path.Combine(TestPaths.Require(TestPaths.NodeSuite), "test_cast_BFLOAT16_to_FLOAT", "test_data_set_0");
        var bits = TensorProtoFormat.ReadFile(Path.Combine(dir, "input_0.pb"));
        var input = Tensor.FromArray(bits.ToArray<ushort>().Select(b => new BFloat16(b)).ToArray(), bits.Shape);
        var expected = TensorProtoFormat.ReadFile(Path.Combine(dir, "output_0.pb")).ToArray<float>();
        var output = KernelHarness.Run("Cast", 13, [input], 1, KernelHarness.Int("to", (long)DataType.Float32)).ToArray<float>();
        Assert.Equal(expected, output);

        // Float to bfloat16 rounds to nearest even (ONNX >= 1.13, ONNX Runtime); this suite (ONNX 1.12) truncated.
        var rounded = KernelHarness.Run("Cast", 13, [Tensor.FromArray(new[] { 0.48033666f, 1f, float.NaN }, 3)], 1,
            KernelHarness.Int("to", (long)DataType.BFloat16)).ToArray<BFloat16>();
        Assert.Equal([(ushort)0x3EF6, (ushort)0x3F80, (ushort)0x7FC0], rounded.Select(v => v.Bits));
    }

    [Fact]
    public void MersenneTwisterMatchesNumpySeedZero()
    {
        var random = new Mt19937(0);
        Assert.Equal(0.5488135039273248, random.NextDouble(), 15);
        Assert.Equal(0.7151893663724195, random.NextDouble(), 15);
        Assert.Equal(0.6027633760716439, random.NextDouble(), 15);
    }

    [Fact]
    public void DropoutIsIdentityInInference()
    {
        var x = Tensor.FromArray(new[] { 1f, -2f, 3f }, 3);
        var outputs = KernelHarness.RunAll("Dropout", 13, [x, Tensor.Scalar(0.5f)], 2, 1);
        Assert.Same(x, outputs[0]);
        Assert.Equal([true, true, true], outputs[1]!.ToArray<bool>());
        var old = KernelHarness.RunAll("Dropout", 7, [x], 2, 1);
        Assert.Equal([1f, 1f, 1f], old[1]!.ToArray<float>());
    }

    [Fact]
    public void TrainingDropoutKeepsAndScales()
    {
        var x = Tensor.FromArray(Enumerable.Repeat(2f, 10000).ToArray(), 10000);
        var outputs = KernelHarness.RunAll("Dropout", 13, [x, Tensor.Scalar(0.25f), Tensor.Scalar(true)], 2, 1, KernelHarness.Int("seed", 7));
        var y = outputs[0]!.ToArray<float>();
        var mask = outputs[1]!.ToArray<bool>();
        Assert.All(y.Zip(mask), p => Assert.Equal(p.Second ? 2f / 0.75f : 0f, p.First, 5));
        Assert.InRange(mask.Count(m => m), 7200, 7800);
    }
}
