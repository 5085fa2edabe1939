using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// float → 8-bit quantization as ONNX defines it: y = saturate(round_half_even(x / scale) + zero_point), to the bit as
/// ONNX Runtime's division gives it; ties round to even. The vector loops multiply by the reciprocal instead (the
/// division was most of the loop's time) and divide only a vector holding a value too near a .5 boundary for the
/// product's rounding error (see <see cref="TieMargin"/>).
/// </summary>
internal static unsafe class Quantizer
{
    /// <summary>
    /// Writes <paramref name="count"/> quantized values of <paramref name="x"/> to <paramref name="y"/> (uint8 or int8
    /// bits, by min and max) and returns their sum (exact while count · 255 fits in an int): a packed GEMM row's sum
    /// for the zero-point correction, taken from the values still in registers rather than by a second pass over the
    /// bytes (that pass was 2.5% of an int8 BERT inference, perf).
    /// </summary>
    public static int Quantize(float* x, byte* y, int count, float scale, int zeroPoint, int min, int max)
    {
        // A reciprocal that is not normal (a scale above 2^126 or below 2^-128) has lost the precision the margin
        // assumes: NaN then sends every vector to the division.
        float reciprocal = 1f / scale;
        if (!float.IsNormal(reciprocal)) reciprocal = float.NaN;
        int i = 0;
        int sum = 0;
        bool signed = min < 0;
        if (Avx512BW.IsSupported && count >= 64)
        {
            // Twice the 256-bit loop's speed where 512-bit vectors run at full width: an int8 BERT quantizes every
            // projection's input (perf: 8% of an inference).
            var s = Vector512.Create(scale);
            var r = Vector512.Create(reciprocal);
            var z = Vector512.Create((float)zeroPoint);
            var lo = Vector512.Create((float)min);
            var hi = Vector512.Create((float)max);
            var order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            var sums = Vector512<int>.Zero;
            for (; i <= count - 64; i += 64)
            {
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                var x2 = Vector512.Load(x + i + 32);
                var x3 = Vector512.Load(x + i + 48);
                var p0 = x0 * r;
                var p1 = x1 * r;
                var p2 = x2 * r;
                var p3 = x3 * r;
                var r0 = Vector512.Round(p0);
                var r1 = Vector512.Round(p1);
                var r2 = Vector512.Round(p2);
                var r3 = Vector512.Round(p3);
                var far = Vector512.Create(SafeDistance);
                var near = ~(Vector512.LessThan(Vector512.Abs(p0 - r0), far) & Vector512.LessThan(Vector512.Abs(p1 - r1), far)
                    & Vector512.LessThan(Vector512.Abs(p2 - r2), far) & Vector512.LessThan(Vector512.Abs(p3 - r3), far));
                if (near != Vector512<float>.Zero)
                {
                    r0 = Vector512.Round(x0 / s);
                    r1 = Vector512.Round(x1 / s);
                    r2 = Vector512.Round(x2 / s);
                    r3 = Vector512.Round(x3 / s);
                }

                var q0 = Clamp16(r0, z, lo, hi);
                var q1 = Clamp16(r1, z, lo, hi);
                var q2 = Clamp16(r2, z, lo, hi);
                var q3 = Clamp16(r3, z, lo, hi);
                sums += (q0 + q1) + (q2 + q3);
                // The packs work within 128-bit lanes: lane L holds values 4L..4L+3 of q0, q1, q2, q3 in turn; one
                // permute of 32-bit groups puts them back in order.
                var w01 = Avx512BW.PackSignedSaturate(q0, q1);
                var w23 = Avx512BW.PackSignedSaturate(q2, q3);
                var bytes = signed ? Avx512BW.PackSignedSaturate(w01, w23).AsInt32() : Avx512BW.PackUnsignedSaturate(w01, w23).AsInt32();
                Avx512F.PermuteVar16x32(bytes, order).AsByte().Store(y + i);
            }

            sum = Vector512.Sum(sums);
        }

        if (Avx2.IsSupported && count - i >= 32)
        {
            var s = Vector256.Create(scale);
            var r = Vector256.Create(reciprocal);
            var z = Vector256.Create((float)zeroPoint);
            var lo = Vector256.Create((float)min);
            var hi = Vector256.Create((float)max);
            var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            var sums = Vector256<int>.Zero;
            for (; i <= count - 32; i += 32)
            {
                var q0 = Quantize8(Vector256.Load(x + i), r, s, z, lo, hi);
                var q1 = Quantize8(Vector256.Load(x + i + 8), r, s, z, lo, hi);
                var q2 = Quantize8(Vector256.Load(x + i + 16), r, s, z, lo, hi);
                var q3 = Quantize8(Vector256.Load(x + i + 24), r, s, z, lo, hi);
                sums += (q0 + q1) + (q2 + q3);
                var w01 = Avx2.PackSignedSaturate(q0, q1);
                var w23 = Avx2.PackSignedSaturate(q2, q3);
                var bytes = signed ? Avx2.PackSignedSaturate(w01, w23).AsInt32() : Avx2.PackUnsignedSaturate(w01, w23).AsInt32();
                Avx2.PermuteVar8x32(bytes, order).AsByte().Store(y + i);
            }

            sum += Vector256.Sum(sums);
        }

        for (; i < count; i++)
        {
            int q = QuantizeOne(x[i], scale, zeroPoint, min, max);
            y[i] = (byte)q;
            sum += q;
        }

        return sum;
    }

    public static int QuantizeOne(float x, float scale, int zeroPoint, int min, int max)
    {
        float v = MathF.Round(x / scale) + zeroPoint;
        // NaN becomes min as in the vector loops, so a value's byte does not depend on where it falls in the run.
        return float.IsNaN(v) ? min : (int)Math.Clamp(v, min, max);
    }

    /// <summary>
    /// How far from a .5 boundary x · (1/scale) must lie for x / scale to round the same way. Both are within 3 · 2^-24
    /// of x / scale's exact value relatively (the reciprocal's and the product's roundings; the quotient's one), so
    /// within 2^-12 for |x / scale| &lt; 1024 (3 · 2^-14 at most); from 1024 on, the value, ±1, saturates the same way
    /// after any zero point of an 8-bit type. A NaN or infinite product fails the test (its distance is NaN) and is
    /// divided. One value in 2048 falls this near, one 16-lane vector in about 128.
    /// </summary>
    private const float TieMargin = 1f / 4096;

    private const float SafeDistance = 0.5f - TieMargin;

    // The processor's own max, min and conversion, not .NET's IEEE Max/Min (which propagate NaN) and saturating
    // conversion: the values are clamped to [min, max] first, so only NaN tells them apart (here it becomes min, the
    // bound max returns when an operand is NaN). With the 128-bit-lane packs instead of Narrow, the 512-bit loop
    // took 0.0075 instead of 0.017 ms of CPU for 1024 rows of 128 floats (scratch program, the two loops alternated
    // twelve times in one process).
    private static Vector512<int> Quantize16(Vector512<float> x, Vector512<float> reciprocal, Vector512<float> scale, Vector512<float> zero, Vector512<float> lo, Vector512<float> hi)
    {
        var product = x * reciprocal;
        var rounded = Vector512.Round(product);
        if (!Vector512.LessThanAll(Vector512.Abs(product - rounded), Vector512.Create(SafeDistance)))
        {
            rounded = Vector512.Round(x / scale);
        }

        return Vector512.ConvertToInt32Native(Vector512.MinNative(Vector512.MaxNative(rounded + zero, lo), hi));
    }

    private static Vector512<int> Clamp16(Vector512<float> rounded, Vector512<float> zero, Vector512<float> lo, Vector512<float> hi) =>
        Vector512.ConvertToInt32Native(Vector512.MinNative(Vector512.MaxNative(rounded + zero, lo), hi));

    // The same operations as Quantize16, 8 lanes at a time.
    private static Vector256<int> Quantize8(Vector256<float> x, Vector256<float> reciprocal, Vector256<float> scale, Vector256<float> zero, Vector256<float> lo, Vector256<float> hi)
    {
        var product = x * reciprocal;
        var rounded = Vector256.Round(product);
        if (!Vector256.LessThanAll(Vector256.Abs(product - rounded), Vector256.Create(SafeDistance)))
        {
            rounded = Vector256.Round(x / scale);
        }

        return Vector256.ConvertToInt32Native(Vector256.MinNative(Vector256.MaxNative(rounded + zero, lo), hi));
    }
}
