using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Reduction;

namespace Tessera.Kernels.Fused;

/// <summary>
/// One attention-score row of FusedScaleMaskSoftmax: y = x·scale + mask while tracking the maximum, then the plain
/// Softmax row's exp-and-sum and reciprocal scaling over y in place. The row is read from memory once and the rest
/// stays in L1, where the unfused graph swept the whole score tensor for Div, Add and Softmax separately.
/// </summary>
internal static unsafe class ScaleMaskSoftmaxRow
{
    /// <summary>
    /// <paramref name="mask"/> is null for no mask; <paramref name="maskStride"/> is 1 for a full row, 0 for one value
    /// broadcast over it. Returns the row's largest value: the reciprocal of the sum, which the largest term's exp(0) = 1
    /// was multiplied by (every other term is at most 1).
    /// </summary>
    public static float Run(float* x, float* mask, int maskStride, float* y, int n, float scale) =>
        Run(x, mask, maskStride, y, n, n, scale);

    /// <summary>
    /// As above, reading only the first <paramref name="kept"/> columns and writing +0 to the rest: what the whole row
    /// gives when the columns left out are a causal mask's, under the conditions <see cref="MaskedTail"/> states (its
    /// producer checked them; the scores beyond are not even computed).
    /// </summary>
    public static float Run(float* x, float* mask, int maskStride, float* y, int n, int kept, float scale) =>
        Run(x, mask, maskStride, y, n, kept, scale, normalize: true);

    /// <summary>
    /// As above; without <paramref name="normalize"/> the row is left as exp(t - max) and not multiplied by the returned
    /// reciprocal sum, for a reader that multiplies it in itself (an int8 P·V quantizing P: the same product, so the
    /// same bits, without this pass over the row).
    /// </summary>
    public static float Run(float* x, float* mask, int maskStride, float* y, int n, int kept, float scale, bool normalize)
    {
        float max = mask is null ? ScaleAddMax(x, new RowAddendValue(0f), y, kept, scale)
            : maskStride == 0 ? ScaleAddMax(x, new RowAddendValue(*mask), y, kept, scale)
            : ScaleAddMax(x, new RowAddendMask(mask), y, kept, scale);
        // A row masked entirely to -inf gives NaN here as in ONNX Softmax (exp(-inf - -inf)).
        float sum = SoftmaxRow.ExpSum(y, y, kept, max);
        float reciprocal = 1f / sum;
        if (normalize) SoftmaxRow.Scale(y, kept, reciprocal);
        if (kept < n) new Span<float>(y + kept, n - kept).Clear();
        return reciprocal;
    }

    /// <summary>y = x·scale + the addend (a mask row, or one value over the whole row), returning the row's maximum.</summary>
    private static float ScaleAddMax<TAddend>(float* x, TAddend addend, float* y, int n, float scale)
        where TAddend : struct, IRowAddend
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (TAddend.Has512BitLoop && Vector512.IsHardwareAccelerated && n >= 16)
        {
            var s = Vector512.Create(scale);
            var m = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.Load(x + i) * s + addend.Vector512At(i);
                t.Store(y + i);
                m = Vector512.Max(m, t);
            }

            max = Horizontal(Vector256.Max(m.GetLower(), m.GetUpper()));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            // Four maxima, not one: without AVX-512, Vector256.Max's NaN and signed-zero rules take eight
            // instructions whose chain through the one accumulator held each step up (perf: the loop took a quarter
            // of the AVX-512 tier's time per value). Max is exact and in any order the same, so the bits are.
            var s = Vector256.Create(scale);
            var m0 = Vector256.Create(float.NegativeInfinity);
            var m1 = m0;
            var m2 = m0;
            var m3 = m0;
            for (; i <= n - 32; i += 32)
            {
                var t0 = Vector256.Load(x + i) * s + addend.Vector256At(i);
                var t1 = Vector256.Load(x + i + 8) * s + addend.Vector256At(i + 8);
                var t2 = Vector256.Load(x + i + 16) * s + addend.Vector256At(i + 16);
                var t3 = Vector256.Load(x + i + 24) * s + addend.Vector256At(i + 24);
                t0.Store(y + i);
                t1.Store(y + i + 8);
                t2.Store(y + i + 16);
                t3.Store(y + i + 24);
                m0 = RunningMax(m0, t0);
                m1 = RunningMax(m1, t1);
                m2 = RunningMax(m2, t2);
                m3 = RunningMax(m3, t3);
            }

            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.Load(x + i) * s + addend.Vector256At(i);
                t.Store(y + i);
                m0 = RunningMax(m0, t);
            }

            max = Horizontal(Vector256.Max(Vector256.Max(m0, m1), Vector256.Max(m2, m3)));
        }

        for (; i < n; i++)
        {
            float t = x[i] * scale + addend.At(i);
            y[i] = t;
            max = MathF.Max(max, t);
        }

        return max;
    }

    /// <summary>
    /// The running maximum m of scores t as one vmaxps (m when t is NaN, either zero for ±0) where Vector256.Max's NaN
    /// and signed-zero rules take eight instructions without AVX-512. The row's outputs keep their bits: a NaN score's
    /// exp makes the sum, and so every output, NaN whatever the maximum, and exp(x - ±0) is the same. (AVX2 tier, 4096 rows
    /// of 128 with a mask, with ExpNotAbove in the sum: the whole softmax 0.74 -> 0.61 ns per score.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RunningMax(Vector256<float> m, Vector256<float> t) => Avx.IsSupported ? Avx.Max(t, m) : Vector256.Max(m, t);

    private static float Horizontal(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }
}
