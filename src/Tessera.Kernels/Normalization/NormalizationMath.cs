using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Normalization;

/// <summary>SIMD row statistics and the fused normalize step shared by the normalization kernels.</summary>
internal static class NormalizationMath
{
    public static T Mean<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Sum(x) / T.CreateChecked(x.Length);

    /// <summary>Sum of (x - mean)^2, without materialising the centred values (two-pass variance, numerically stable).</summary>
    public static T CenteredSquares<T>(ReadOnlySpan<T> x, T mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            ref T start = ref MemoryMarshal.GetReference(x);
            var m = new Vector<T>(mean);
            Vector<T> acc0 = Vector<T>.Zero, acc1 = Vector<T>.Zero;
            int width = Vector<T>.Count;
            for (; i <= x.Length - 2 * width; i += 2 * width)
            {
                Vector<T> d0 = Vector.LoadUnsafe(ref start, (nuint)i) - m;
                Vector<T> d1 = Vector.LoadUnsafe(ref start, (nuint)(i + width)) - m;
                acc0 += d0 * d0;
                acc1 += d1 * d1;
            }

            for (; i <= x.Length - width; i += width)
            {
                Vector<T> d = Vector.LoadUnsafe(ref start, (nuint)i) - m;
                acc0 += d * d;
            }

            sum = Vector.Sum(acc0 + acc1);
        }

        for (; i < x.Length; i++)
        {
            T d = x[i] - mean;
            sum += d * d;
        }

        return sum;
    }

    /// <summary>y = (x - mean) * inverseStdDev * scale + bias in one pass; empty scale means 1 and empty bias means 0.</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, T mean, T inverseStdDev, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (scale.IsEmpty || bias.IsEmpty)
        {
            // y = x * a + b with a = inverseStdDev, b = -mean * a, then the optional per-element scale and bias.
            Affine(x, inverseStdDev, -mean * inverseStdDev, y);
            if (!scale.IsEmpty)
            {
                TensorPrimitives.Multiply(y, scale, y);
            }

            if (!bias.IsEmpty)
            {
                TensorPrimitives.Add(y, bias, y);
            }

            return;
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            ref T xs = ref MemoryMarshal.GetReference(x);
            ref T ss = ref MemoryMarshal.GetReference(scale);
            ref T bs = ref MemoryMarshal.GetReference(bias);
            ref T ys = ref MemoryMarshal.GetReference(y);
            var m = new Vector<T>(mean);
            var inv = new Vector<T>(inverseStdDev);
            int width = Vector<T>.Count;
            for (; i <= x.Length - width; i += width)
            {
                Vector<T> v = (Vector.LoadUnsafe(ref xs, (nuint)i) - m) * inv;
                Vector<T> r = v * Vector.LoadUnsafe(ref ss, (nuint)i) + Vector.LoadUnsafe(ref bs, (nuint)i);
                r.StoreUnsafe(ref ys, (nuint)i);
            }

            if (i < x.Length)
            {
                // Out of place, the tail recomputes the last full vector instead of running a scalar loop.
                if (!Unsafe.AreSame(ref xs, ref ys))
                {
                    i = x.Length - width;
                    Vector<T> v = (Vector.LoadUnsafe(ref xs, (nuint)i) - m) * inv;
                    Vector<T> r = v * Vector.LoadUnsafe(ref ss, (nuint)i) + Vector.LoadUnsafe(ref bs, (nuint)i);
                    r.StoreUnsafe(ref ys, (nuint)i);
                    return;
                }
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = (x[i] - mean) * inverseStdDev * scale[i] + bias[i];
        }
    }
    /// <summary>y = x * a + b with scalar a and b (y may alias x).</summary>
    public static void Affine<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length > y.Length)
        {
            throw new ArgumentException("destination is too short", nameof(y));
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            ref T xs = ref MemoryMarshal.GetReference(x);
            ref T ys = ref MemoryMarshal.GetReference(y);
            var va = new Vector<T>(a);
            var vb = new Vector<T>(b);
            int width = Vector<T>.Count;
            for (; i <= x.Length - 2 * width; i += 2 * width)
            {
                Vector<T> r0 = Vector.LoadUnsafe(ref xs, (nuint)i) * va + vb;
                Vector<T> r1 = Vector.LoadUnsafe(ref xs, (nuint)(i + width)) * va + vb;
                r0.StoreUnsafe(ref ys, (nuint)i);
                r1.StoreUnsafe(ref ys, (nuint)(i + width));
            }

            for (; i <= x.Length - width; i += width)
            {
                (Vector.LoadUnsafe(ref xs, (nuint)i) * va + vb).StoreUnsafe(ref ys, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] * a + b;
        }
    }
}
