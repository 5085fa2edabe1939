using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Contiguous float32 rows each multiplied by its own factor, then quantized to uint8 with zero point 0 as the integer
/// GEMM packs them: an int8 attention's P·V reading the softmax's unnormalised rows exp(t - max) and their reciprocal
/// sums (FusedScaleMaskSoftmax with normalize = 0). Each value is the softmax's own multiply e·r, then
/// <see cref="Quantizer"/>'s division, rounding and clamp, so the bytes are those of quantizing the normalised P: the
/// pass that normalised every row (a sixth of the softmax on 128-value rows) is one vmulps in this loop instead.
/// Row r is r x K elements on; factor i belongs to the row i x K elements from the first (batches skip both).
/// </summary>
internal readonly unsafe struct QgemmScaledFloatRows : IQgemmBatchRows<QgemmScaledFloatRows>
{
    private readonly float* _x;
    private readonly float* _factors;
    private readonly int _k;
    private readonly float _scale;

    // Row r's length before its zero tail (a causal attention's P: QgemmRowLimits.Depth), or null for K.
    private readonly int* _kept;

    /// <param name="x">The rows, K values each, contiguous.</param>
    /// <param name="factors">One factor per row.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">The quantization scale (zero point 0: P is at least 0, so its range starts at 0).</param>
    /// <param name="kept">Per row the length before a +0 tail (byte 0, not quantized), or null.</param>
    public QgemmScaledFloatRows(float* x, float* factors, int k, float scale, int* kept)
    {
        _x = x;
        _factors = factors;
        _k = k;
        _scale = scale;
        _kept = kept;
    }

    public QgemmScaledFloatRows Skip(long elements) => new(_x + elements, _factors + (elements / _k), _k, _scale, _kept);

    public void Pack(int row, int count, byte* destination, int stride, int* sums)
    {
        for (int r = 0; r < count; r++)
        {
            int length = _kept is null ? _k : Math.Min((Math.Max(_kept[row + r], 0) + 31) & ~31, _k);
            byte* to = destination + ((long)r * stride);
            sums[r] = Quantize(_x + ((long)(row + r) * _k), _factors[row + r], to, length, _scale);
            if (length < _k) new Span<byte>(to + length, _k - length).Clear();
        }
    }

    // Quantizer.Quantize's arithmetic for zero point 0 and [0, 255] on x·factor (the product rounded to float first, as
    // the softmax's normalising multiply is); every lane alike, so the widths taken do not change a byte.
    private static int Quantize(float* x, float factor, byte* y, int count, float scale)
    {
        int i = 0;
        int sum = 0;
        if (Avx512BW.IsSupported && count >= 64)
        {
            var f = Vector512.Create(factor);
            var s = Vector512.Create(scale);
            var zero = Vector512<float>.Zero;
            var hi = Vector512.Create(255f);
            var order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            var sums = Vector512<int>.Zero;
            for (; i <= count - 64; i += 64)
            {
                var q0 = Quantizer.Quantize16(Vector512.Load(x + i) * f, s, zero, zero, hi);
                var q1 = Quantizer.Quantize16(Vector512.Load(x + i + 16) * f, s, zero, zero, hi);
                var q2 = Quantizer.Quantize16(Vector512.Load(x + i + 32) * f, s, zero, zero, hi);
                var q3 = Quantizer.Quantize16(Vector512.Load(x + i + 48) * f, s, zero, zero, hi);
                sums += (q0 + q1) + (q2 + q3);
                var w01 = Avx512BW.PackSignedSaturate(q0, q1);
                var w23 = Avx512BW.PackSignedSaturate(q2, q3);
                Avx512F.PermuteVar16x32(Avx512BW.PackUnsignedSaturate(w01, w23).AsInt32(), order).AsByte().Store(y + i);
            }

            sum = Vector512.Sum(sums);
        }

        if (Avx2.IsSupported && count - i >= 32)
        {
            var f = Vector256.Create(factor);
            var s = Vector256.Create(scale);
            var zero = Vector256<float>.Zero;
            var hi = Vector256.Create(255f);
            var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            var sums = Vector256<int>.Zero;
            for (; i <= count - 32; i += 32)
            {
                var q0 = Quantizer.Quantize8(Vector256.Load(x + i) * f, s, zero, zero, hi);
                var q1 = Quantizer.Quantize8(Vector256.Load(x + i + 8) * f, s, zero, zero, hi);
                var q2 = Quantizer.Quantize8(Vector256.Load(x + i + 16) * f, s, zero, zero, hi);
                var q3 = Quantizer.Quantize8(Vector256.Load(x + i + 24) * f, s, zero, zero, hi);
                sums += (q0 + q1) + (q2 + q3);
                var w01 = Avx2.PackSignedSaturate(q0, q1);
                var w23 = Avx2.PackSignedSaturate(q2, q3);
                Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(w01, w23).AsInt32(), order).AsByte().Store(y + i);
            }

            sum += Vector256.Sum(sums);
        }

        for (; i < count; i++)
        {
            int q = Quantizer.QuantizeOne(x[i] * factor, scale, 0, 0, 255);
            y[i] = (byte)q;
            sum += q;
        }

        return sum;
    }
}
