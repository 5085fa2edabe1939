using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The smallest and largest value of a float run in one pass (dynamic quantization's range). TensorPrimitives' Min
/// and Max take a pass each and pay for NaN propagation on every vector; this loop uses the processor's min/max and
/// only notes whether a NaN went by, handing such a run to TensorPrimitives so NaNs come out as they always did.
/// Quantizing BERT-style activations, the two passes were 4.6% of an int8 inference (perf). Vector&lt;float&gt; is
/// the widest vector on every tier up to 256 bits: the loop is bound by memory, not by the vector width.
/// </summary>
internal static class FloatRange
{
    public static (float Min, float Max) Of(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) throw new ArgumentException("no values", nameof(values));
        int i = 0;
        float min = values[0], max = values[0];
        bool nan = false;
        int step = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * step)
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
}
