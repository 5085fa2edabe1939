using System.Runtime.Intrinsics;
using Tessera.Kernels.Elementwise;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// Float32 softmax of one contiguous row in three sweeps (maximum; exp(x - max) stored and summed in the same sweep;
/// scale by the reciprocal sum) instead of five separate vector primitives, so a short attention row stays in
/// registers and L1 with one call per row.
/// </summary>
internal static unsafe class SoftmaxRow
{
    public static void Run(float* x, float* y, int n)
    {
        float max = Max(x, n);
        float sum = ExpSum(x, y, n, max);
        Scale(y, n, 1f / sum);
    }

    private static float Max(float* x, int n)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Load(x);
            for (i = 16; i <= n - 16; i += 16)
            {
                m = Vector512.Max(m, Vector512.Load(x + i));
            }

            m = Vector512.Max(m, Vector512.Load(x + n - 16));
            max = Horizontal(Vector256.Max(m.GetLower(), m.GetUpper()));
            i = n;
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Load(x);
            for (i = 8; i <= n - 8; i += 8)
            {
                m = Vector256.Max(m, Vector256.Load(x + i));
            }

            max = Horizontal(Vector256.Max(m, Vector256.Load(x + n - 8)));
            i = n;
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, x[i]);
        }

        return max;
    }

    private static float Horizontal(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    internal static float ExpSum(float* x, float* y, int n, float max)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(max);
            var s = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = ExpMath.Exp(Vector512.Load(x + i) - m);
                e.Store(y + i);
                s += e;
            }

            sum = Vector512.Sum(s);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            var s = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                // x - max is at most 0 (or NaN): no lane can overflow.
                var e = ExpMath.ExpNotAbove(Vector256.Load(x + i) - m);
                e.Store(y + i);
                s += e;
            }

            sum = Vector256.Sum(s);
        }

        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            sum += e;
        }

        return sum;
    }

    internal static void Scale(float* y, int n, float scale)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                (Vector512.Load(y + i) * s).Store(y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
            {
                (Vector256.Load(y + i) * s).Store(y + i);
            }
        }

        for (; i < n; i++)
        {
            y[i] *= scale;
        }
    }
}
