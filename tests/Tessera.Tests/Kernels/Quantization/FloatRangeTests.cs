using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>Dynamic quantization's one-pass range against System.Numerics.Tensors' Min and Max, on every SIMD tier's loop lengths.</summary>
public sealed unsafe class FloatRangeTests
{
    [Fact]
    public void MatchesTensorPrimitivesAtEveryLength()
    {
        var random = new Random(5);
        foreach (int length in Enumerable.Range(1, 70).Concat([127, 128, 129, 1000, 4097]))
        {
            var values = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.3) * 1e3)).ToArray();
            // The extremes anywhere: the first lane, a vector's last lane, the scalar tail.
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                var probe = (float[])values.Clone();
                probe[at] = -5e3f;
                probe[length - 1 - at] = 7e3f;
                Assert.Equal((TensorPrimitives.Min(probe), TensorPrimitives.Max(probe)), FloatRange.Of(probe));
            }
        }
    }

    [Fact]
    public void NaNsAndInfinitiesComeOutAsTensorPrimitivesGivesThem()
    {
        foreach (int length in new[] { 3, 16, 33, 64, 100 })
        {
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                foreach (float odd in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var values = Enumerable.Range(0, length).Select(i => (float)i - 10).ToArray();
                    values[at] = odd;
                    var (min, max) = FloatRange.Of(values);
                    Assert.Equal(TensorPrimitives.Min(values), min);
                    Assert.Equal(TensorPrimitives.Max(values), max);
                }
            }
        }
    }

    [Fact]
    public void ANaNAnywhereComesOutAsNaN()
    {
        // Every lane of every accumulator of every tier's loop, followed by more vectors: the processor's min/max
        // can drop a NaN taken into an accumulator when a later value replaces it, so the loops must note it.
        const int length = 200;
        for (int at = 0; at < length; at++)
        {
            var values = Enumerable.Range(0, length).Select(i => (float)((i * 37 % 101) - 50)).ToArray();
            values[at] = float.NaN;
            var (min, max) = FloatRange.Of(values);
            Assert.True(float.IsNaN(min) && float.IsNaN(max), $"NaN at {at}: {min}, {max}");
        }
    }

    [Fact]
    public void TheRangeSplitAcrossThreadsIsTheOnePassRange()
    {
        var random = new Random(9);
        var parallel = new ParallelRunner(2);
        // Below, at and above the length that is split, with the extremes in the second thread's half.
        foreach (int length in new[] { 65535, 65536, 100_001 })
        {
            var values = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            values[length - 2] = -3f;
            values[(length / 2) + 1] = 4f;
            fixed (float* p = values)
            {
                Assert.Equal((-3f, 4f), FloatRange.Of(p, length, parallel));
                values[length - 1] = float.NaN;
                var (min, max) = FloatRange.Of(p, length, parallel);
                Assert.True(float.IsNaN(min) && float.IsNaN(max), $"{length}: {min}, {max}");
            }
        }
    }
}
