using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The smallest and largest value of a float run in one pass (dynamic quantization's range). TensorPrimitives' Min
/// and Max take a pass each and pay for NaN propagation on every vector; this loop uses the processor's min/max and
/// only notes whether a NaN went by, handing such a run to TensorPrimitives so NaNs come out as they always did.
/// Quantizing BERT-style activations, the two passes were 4.6% of an int8 inference (perf). With AVX-512 the loop
/// takes two 16-float vectors per step into two pairs of accumulators: one 256-bit pair was bound by the min/max
/// latency, not by memory (the activation was just written and sits in L2), and DynamicQuantizeLinear of 1024 x 512
/// floats (this pass, then quantizing) went from 0.099 to 0.081 ms. Vector&lt;float&gt; covers the other tiers.
/// </summary>
internal static unsafe class FloatRange
{
    // 32K values are a pass of a few microseconds, about what handing half of it to another thread costs.
    private const int ParallelMinimum = 1 << 15;

    /// <summary>
    /// The same range with the pass split across <paramref name="parallel"/>'s threads: it is a serial pass before every
    /// dynamically quantized product, which a second core would otherwise wait out.
    /// </summary>
    public static (float Min, float Max) Of(float* values, int length, ParallelRunner parallel)
    {
        int chunks = Math.Min(parallel.Degree, length / ParallelMinimum);
        if (chunks <= 1) return Of(new ReadOnlySpan<float>(values, length));
        float* ranges = stackalloc float[2 * chunks];
        var body = new ChunkRanges(values, length, chunks, ranges);
        parallel.ForChunks(chunks, chunks, ref body);
        float min = ranges[0], max = ranges[1];
        for (int c = 1; c < chunks; c++)
        {
            // MathF.Min/Max propagate NaN as TensorPrimitives does, so a NaN in any chunk comes out as it would from one pass.
            min = MathF.Min(min, ranges[2 * c]);
            max = MathF.Max(max, ranges[(2 * c) + 1]);
        }

        return (min, max);
    }

    public static (float Min, float Max) Of(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) throw new ArgumentException("no values", nameof(values));
        int i = 0;
        float min = values[0], max = values[0];
        bool nan = false;
        int step = Vector<float>.Count;
        if (Vector512.IsHardwareAccelerated && values.Length >= 32)
        {
            (min, max, nan) = Wide(values);
            i = values.Length & ~31;
        }
        else if (Vector256.IsHardwareAccelerated && values.Length >= 16)
        {
            (min, max, nan) = Wide256(values);
            i = values.Length & ~15;
        }
        else if (Vector.IsHardwareAccelerated && values.Length >= 2 * step)
        {
            var lo = new Vector<float>(values);
            var hi = lo;
            var odd = Vector<int>.Zero;
            for (; i <= values.Length - step; i += step)
            {
                var x = new Vector<float>(values[i..]);
                lo = Vector.MinNative(lo, x);
                hi = Vector.MaxNative(hi, x);
                odd |= ~Vector.Equals(x, x);
            }

            nan = odd != Vector<int>.Zero;
            for (int k = 0; k < step; k++)
            {
                min = MathF.Min(min, lo[k]);
                max = MathF.Max(max, hi[k]);
            }
        }

        for (; i < values.Length; i++)
        {
            float v = values[i];
            nan |= float.IsNaN(v);
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }

        return nan ? (TensorPrimitives.Min(values), TensorPrimitives.Max(values)) : (min, max);
    }

    /// <summary>The range of the values up to the last whole 32, and whether a NaN is among them.</summary>
    private static (float Min, float Max, bool NaN) Wide(ReadOnlySpan<float> values)
    {
        ref float first = ref MemoryMarshal.GetReference(values);
        var lo0 = Vector512.LoadUnsafe(ref first);
        var lo1 = lo0;
        var hi0 = lo0;
        var hi1 = lo0;
        var ordered = Vector512<int>.AllBitsSet;
        for (nuint i = 0; i <= (nuint)values.Length - 32; i += 32)
        {
            var a = Vector512.LoadUnsafe(ref first, i);
            var b = Vector512.LoadUnsafe(ref first, i + 16);
            lo0 = Vector512.MinNative(lo0, a);
            hi0 = Vector512.MaxNative(hi0, a);
            lo1 = Vector512.MinNative(lo1, b);
            hi1 = Vector512.MaxNative(hi1, b);
            ordered &= (Vector512.Equals(a, a) & Vector512.Equals(b, b)).AsInt32();
        }

        var lo = Vector512.MinNative(lo0, lo1);
        var hi = Vector512.MaxNative(hi0, hi1);
        float min = lo[0], max = hi[0];
        for (int k = 1; k < Vector512<float>.Count; k++)
        {
            min = MathF.Min(min, lo[k]);
            max = MathF.Max(max, hi[k]);
        }

        return (min, max, ordered != Vector512<int>.AllBitsSet);
    }

    /// <summary>
    /// The same as <see cref="Wide"/> on 256-bit vectors (the AVX2 tier), up to the last whole 16: one pair of
    /// accumulators waited on the min/max latency, 0.13 ns per value against 0.06 with two pairs (a scratch program
    /// over 1024 x 128 floats, AVX2 tier, load 3, not kept).
    /// </summary>
    private static (float Min, float Max, bool NaN) Wide256(ReadOnlySpan<float> values)
    {
        ref float first = ref MemoryMarshal.GetReference(values);
        var lo0 = Vector256.LoadUnsafe(ref first);
        var lo1 = lo0;
        var hi0 = lo0;
        var hi1 = lo0;
        var ordered = Vector256<int>.AllBitsSet;
        for (nuint i = 0; i <= (nuint)values.Length - 16; i += 16)
        {
            var a = Vector256.LoadUnsafe(ref first, i);
            var b = Vector256.LoadUnsafe(ref first, i + 8);
            lo0 = Vector256.MinNative(lo0, a);
            hi0 = Vector256.MaxNative(hi0, a);
            lo1 = Vector256.MinNative(lo1, b);
            hi1 = Vector256.MaxNative(hi1, b);
            ordered &= (Vector256.Equals(a, a) & Vector256.Equals(b, b)).AsInt32();
        }

        var lo = Vector256.MinNative(lo0, lo1);
        var hi = Vector256.MaxNative(hi0, hi1);
        float min = lo[0], max = hi[0];
        for (int k = 1; k < Vector256<float>.Count; k++)
        {
            min = MathF.Min(min, lo[k]);
            max = MathF.Max(max, hi[k]);
        }

        return (min, max, ordered != Vector256<int>.AllBitsSet);
    }

    /// <summary>Chunk c of the values: its range to ranges[2c] and ranges[2c + 1].</summary>
    private readonly struct ChunkRanges(float* values, int length, int chunks, float* ranges) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                int first = (int)((long)length * c / chunks);
                int last = (int)((long)length * (c + 1) / chunks);
                (ranges[2 * c], ranges[(2 * c) + 1]) = Of(new ReadOnlySpan<float>(values + first, last - first));
            }
        }
    }
}
