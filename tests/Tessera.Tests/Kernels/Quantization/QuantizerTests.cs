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
}
