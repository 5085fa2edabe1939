using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// float → 8-bit quantization as ONNX defines it: y = saturate(round_half_even(x / scale) + zero_point). Division, not
/// multiplication by a reciprocal, so results agree with ONNX Runtime's to the bit; ties round to even. Tried and
/// dropped (issue 16b5): multiplying by 1/scale and dividing only a vector with a product within 2^-12 of a .5
/// boundary (same bytes, QuantizerTests' near-tie test) raised Quantize's perf share of int8 GPT b8 s128 at 1 thread
/// from 7.5 to 9.1% (test per vector) and 7.0 to 9.0% (one test per 64 values), base and branch at once, load 9-23:
/// the division is not this loop's bottleneck on Zen 5.
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
        int i = 0;
        int sum = 0;
        bool signed = min < 0;
        if (Avx512BW.IsSupported && count >= 64)
        {
            // Twice the 256-bit loop's speed where 512-bit vectors run at full width: an int8 BERT quantizes every
            // projection's input (perf: 8% of an inference).
            var s = Vector512.Create(scale);
            var z = Vector512.Create((float)zeroPoint);
            var lo = Vector512.Create((float)min);
            var hi = Vector512.Create((float)max);
            var order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            var sums = Vector512<int>.Zero;
            for (; i <= count - 64; i += 64)
            {
                var q0 = Quantize16(Vector512.Load(x + i), s, z, lo, hi);
                var q1 = Quantize16(Vector512.Load(x + i + 16), s, z, lo, hi);
                var q2 = Quantize16(Vector512.Load(x + i + 32), s, z, lo, hi);
                var q3 = Quantize16(Vector512.Load(x + i + 48), s, z, lo, hi);
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
            var z = Vector256.Create((float)zeroPoint);
            var lo = Vector256.Create((float)min);
            var hi = Vector256.Create((float)max);
            var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            var sums = Vector256<int>.Zero;
            for (; i <= count - 32; i += 32)
            {
                var q0 = Quantize8(Vector256.Load(x + i), s, z, lo, hi);
                var q1 = Quantize8(Vector256.Load(x + i + 8), s, z, lo, hi);
                var q2 = Quantize8(Vector256.Load(x + i + 16), s, z, lo, hi);
                var q3 = Quantize8(Vector256.Load(x + i + 24), s, z, lo, hi);
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

    // The processor's own max, min and conversion, not .NET's IEEE Max/Min (which propagate NaN) and saturating
    // conversion: the values are clamped to [min, max] first, so only NaN tells them apart (here it becomes min, the
    // bound max returns when an operand is NaN). With the 128-bit-lane packs instead of Narrow, the 512-bit loop
    // took 0.0075 instead of 0.017 ms of CPU for 1024 rows of 128 floats (scratch program, the two loops alternated
    // twelve times in one process).
    internal static Vector512<int> Quantize16(Vector512<float> x, Vector512<float> scale, Vector512<float> zero, Vector512<float> lo, Vector512<float> hi) =>
        Vector512.ConvertToInt32Native(Vector512.MinNative(Vector512.MaxNative(Vector512.Round(x / scale) + zero, lo), hi));

    // The same operations as Quantize16, 8 lanes at a time.
    internal static Vector256<int> Quantize8(Vector256<float> x, Vector256<float> scale, Vector256<float> zero, Vector256<float> lo, Vector256<float> hi) =>
        Vector256.ConvertToInt32Native(Vector256.MinNative(Vector256.MaxNative(Vector256.Round(x / scale) + zero, lo), hi));
}
