using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Reduction;

namespace Tessera.Kernels.Fused;

/// <summary>
/// Attention-score rows of FusedScaleMaskSoftmax: y = x·scale + mask while tracking the maximum, then the plain
/// Softmax row's exp-and-sum and reciprocal scaling over y in place. The row is read from memory once and the rest
/// stays in L1, where the unfused graph swept the whole score tensor for Div, Add and Softmax separately.
/// </summary>
internal static unsafe class ScaleMaskSoftmaxRow
{
    /// <summary>Rows handed over together (<see cref="Run"/>): each phase runs over all of them before the next.</summary>
    public const int Group = 4;

    /// <summary>
    /// Runs <paramref name="count"/> (at most <see cref="Group"/>) rows: row k reads <paramref name="x"/>[k] and
    /// <paramref name="mask"/>[k] (null for no mask; <paramref name="maskStride"/> 1 for a full row, 0 for one value
    /// broadcast over it), writes <paramref name="y"/>[k], and reads only its first <paramref name="kept"/>[k] columns,
    /// writing +0 to the rest: what the whole row gives when the columns left out are a causal mask's, under the
    /// conditions <see cref="MaskedTail"/> states (its producer checked them; the scores beyond are not even computed).
    /// Writes each row's largest value to <paramref name="largest"/>[k]: the reciprocal of the sum, which the largest
    /// term's exp(0) = 1 was multiplied by (every other term is at most 1). A row's work is the same as alone, so its
    /// bits are; by phases, one row's exp-and-sum overlaps the others' instead of waiting behind its own maximum, and
    /// its scaling behind its own sum's reciprocal (a scratch program on the 256-bit tier: max, exp-and-sum and scale
    /// over 128-float rows 0.77-0.85 ns per value one row at a time, 0.66-0.69 in groups of four or eight).
    /// </summary>
    public static void Run(float** x, float** mask, int maskStride, float** y, int* kept, int count, int n, float scale, float* largest, byte* next = null, int nextBytes = 0)
    {
        float* max = stackalloc float[Group];
        for (int k = 0; k < count; k++)
        {
            max[k] = mask[k] is null ? ScaleMax(x[k], y[k], kept[k], scale)
                : maskStride == 0 ? ScaleMax(x[k], y[k], kept[k], scale, *mask[k])
                : ScaleAddMax(x[k], mask[k], y[k], kept[k], scale);
        }

        if (Sse.IsSupported)
        {
            for (int b = 0; b < nextBytes; b += 64) Sse.Prefetch0(next + b);
        }

        // A row masked entirely to -inf gives NaN here as in ONNX Softmax (exp(-inf - -inf)).
        for (int k = 0; k < count; k++) largest[k] = 1f / SoftmaxRow.ExpSum(y[k], y[k], kept[k], max[k]);
        for (int k = 0; k < count; k++)
        {
            SoftmaxRow.Scale(y[k], kept[k], largest[k]);
            if (kept[k] < n) new Span<float>(y[k] + kept[k], n - kept[k]).Clear();
        }
    }

    private static float ScaleAddMax(float* x, float* mask, float* y, int n, float scale)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var s = Vector512.Create(scale);
            var m = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.Load(x + i) * s + Vector512.Load(mask + i);
                t.Store(y + i);
                m = Vector512.Max(m, t);
            }

            max = Horizontal(Vector256.Max(m.GetLower(), m.GetUpper()));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(scale);
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.Load(x + i) * s + Vector256.Load(mask + i);
                t.Store(y + i);
                m = Vector256.Max(m, t);
            }

            max = Horizontal(m);
        }

        for (; i < n; i++)
        {
            float t = x[i] * scale + mask[i];
            y[i] = t;
            max = MathF.Max(max, t);
        }

        return max;
    }

    private static float ScaleMax(float* x, float* y, int n, float scale, float bias = 0f)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(scale);
            var b = Vector256.Create(bias);
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.Load(x + i) * s + b;
                t.Store(y + i);
                m = Vector256.Max(m, t);
            }

            max = Horizontal(m);
        }

        for (; i < n; i++)
        {
            float t = x[i] * scale + bias;
            y[i] = t;
            max = MathF.Max(max, t);
        }

        return max;
    }

    private static float Horizontal(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }
}
