using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>The vector quantization loops (64 and 32 at a time, their lane-wise packs) against ONNX's formula value by value, and the sum they return.</summary>
public sealed unsafe class QuantizerTests
{
    [Fact]
    public void EveryLengthAndBothTypesMatchTheFormula()
    {
        var random = new Random(16);
        // Every vector loop, their mixes and the scalar tail; the values run past both ends of every range.
        foreach (int length in Enumerable.Range(0, 200).Concat([255, 256, 257, 1000]))
        {
            var x = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.45) * 8)).ToArray();
            foreach (var (scale, zero, min, max) in new[] { (0.02f, 128, 0, 255), (0.013f, 0, 0, 255), (0.5f, 255, 0, 255), (0.02f, -3, -128, 127), (0.04f, 127, -128, 127) })
            {
                var y = new byte[length];
                int sum;
                fixed (float* px = x)
                fixed (byte* py = y)
                {
                    sum = Quantizer.Quantize(px, py, length, scale, zero, min, max);
                }

                int expectedSum = 0;
                for (int i = 0; i < length; i++)
                {
                    int expected = (int)Math.Clamp(Math.Round(x[i] / scale, MidpointRounding.ToEven) + zero, min, max);
                    Assert.True((byte)expected == y[i], $"length {length}, value {i} ({x[i]} / {scale} + {zero}): {(byte)expected} expected, got {y[i]}");
                    expectedSum += expected;
                }

                // The sum of the values written (signed for int8), which packing uses as the row sum.
                Assert.Equal(expectedSum, sum);
            }
        }
    }

    [Fact]
    public void NaNBecomesTheLowerBoundWhereverItFalls()
    {
        foreach (var (min, max) in new[] { (0, 255), (-128, 127) })
        {
            // Positions in the 64-wide loop, in the 32-wide loop after it (both halves of a lane's pack), in the scalar tail.
            var x = Enumerable.Range(0, 100).Select(i => i * 0.1f).ToArray();
            foreach (int at in new[] { 0, 5, 37, 63, 64, 81, 95, 98 }) x[at] = float.NaN;
            var y = new byte[x.Length];
            fixed (float* px = x)
            fixed (byte* py = y)
            {
                Quantizer.Quantize(px, py, x.Length, 0.1f, 10, min, max);
            }

            for (int i = 0; i < x.Length; i++)
            {
                int expected = float.IsNaN(x[i]) ? min : Math.Clamp((int)MathF.Round(x[i] / 0.1f) + 10, min, max);
                Assert.Equal((byte)expected, y[i]);
            }
        }
    }

    [Fact]
    public void ValuesNearEveryTieMatchTheDivision()
    {
        // Where a faster quantization (a multiply by 1/scale, say) would round apart from ONNX's division; every value
        // here is checked against the division, byte for byte: values a few ulps around (k + 0.5) · scale for every k a byte can reach (where
        // product and quotient can round apart), random ones, and extremes, for random scales, the scales
        // DynamicQuantizeLinear makes, and scales whose reciprocal is not normal.
        var random = new Random(1605);
        var scales = new List<float> { 0.5f, 0.1f, 1f / 3, 0.02f, 1e-30f, 3e37f, 1e-39f, float.Epsilon, 2e38f };
        for (int i = 0; i < 40; i++) scales.Add((float)Math.Exp((random.NextDouble() - 0.5) * 16));
        for (int i = 0; i < 40; i++)
        {
            float most = (float)(random.NextDouble() * 10), least = -(float)(random.NextDouble() * 10);
            scales.Add((most - least) / 255f);
        }

        foreach (float scale in scales)
        {
            var values = new List<float>();
            for (int k = -1100; k <= 1100; k++)
            {
                float tie = (k + 0.5f) * scale;
                for (int ulps = -6; ulps <= 6; ulps++) values.Add(Step(tie, ulps));
            }

            for (int i = 0; i < 2000; i++) values.Add((float)((random.NextDouble() - 0.5) * 600 * scale));
            values.AddRange([0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, float.Epsilon, 1e-38f, -1e30f]);
            // Shuffled, so tie values share vectors with ordinary ones and reach every lane.
            var x = values.OrderBy(_ => random.Next()).ToArray();
            foreach (var (zero, min, max) in new[] { (0, 0, 255), (128, 0, 255), (255, 0, 255), (0, -128, 127), (-128, -128, 127), (127, -128, 127) })
            {
                var y = new byte[x.Length];
                fixed (float* px = x)
                fixed (byte* py = y)
                {
                    Quantizer.Quantize(px, py, x.Length, scale, zero, min, max);
                }

                for (int i = 0; i < x.Length; i++)
                {
                    float quotient = x[i] / scale;
                    int expected = float.IsNaN(quotient) ? min : (int)Math.Clamp(Math.Round(quotient, MidpointRounding.ToEven) + zero, min, max);
                    Assert.True((byte)expected == y[i], $"scale {scale:R}, zero {zero}, value {x[i]:R} (/ scale = {quotient:R}): {(byte)expected} expected, got {y[i]}");
                }
            }
        }
    }

    /// <summary><paramref name="value"/> moved by <paramref name="ulps"/> representable floats.</summary>
    private static float Step(float value, int ulps)
    {
        for (; ulps > 0; ulps--) value = MathF.BitIncrement(value);
        for (; ulps < 0; ulps++) value = MathF.BitDecrement(value);
        return value;
    }
}
