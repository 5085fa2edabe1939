using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>Small SIMD building blocks TensorPrimitives lacks, generic over the primitive numeric types.</summary>
internal static class VectorOps
{
    /// <summary>Whether <typeparamref name="T"/> has hardware vectors (false for Half, whose arithmetic goes through float).</summary>
    public static bool IsAccelerated<T>() => Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;

    /// <summary>destination[i] = x[i] &lt; 0 ? negative[i] : x[i]; <paramref name="negative"/> may be <paramref name="destination"/>.</summary>
    public static void SelectNegative<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> negative, Span<T> destination)
        where T : unmanaged, INumber<T>
    {
        int n = destination.Length;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rn = ref MemoryMarshal.GetReference(negative);
        ref T rd = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var vx = Vector512.LoadUnsafe(ref rx, (nuint)i);
                var vn = Vector512.LoadUnsafe(ref rn, (nuint)i);
                Vector512.ConditionalSelect(Vector512.LessThan(vx, Vector512<T>.Zero), vn, vx).StoreUnsafe(ref rd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vx = Vector256.LoadUnsafe(ref rx, (nuint)i);
                var vn = Vector256.LoadUnsafe(ref rn, (nuint)i);
                Vector256.ConditionalSelect(Vector256.LessThan(vx, Vector256<T>.Zero), vn, vx).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref rx, i);
            Unsafe.Add(ref rd, i) = v < T.Zero ? Unsafe.Add(ref rn, i) : v;
        }
    }

    /// <summary>destination[i] += max(x[i], 0).</summary>
    public static void AddPositivePart<T>(ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, INumber<T>
    {
        int n = destination.Length;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rd = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var vx = Vector512.LoadUnsafe(ref rx, (nuint)i);
                var vd = Vector512.LoadUnsafe(ref rd, (nuint)i);
                (vd + Vector512.Max(vx, Vector512<T>.Zero)).StoreUnsafe(ref rd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vx = Vector256.LoadUnsafe(ref rx, (nuint)i);
                var vd = Vector256.LoadUnsafe(ref rd, (nuint)i);
                (vd + Vector256.Max(vx, Vector256<T>.Zero)).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref rx, i);
            Unsafe.Add(ref rd, i) += T.Max(v, T.Zero);
        }
    }
}
