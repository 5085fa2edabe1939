using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Applies an <see cref="IFloatVectorFunction"/> to a float32 run at the widest accelerated vector width (128 bits
/// whatever the machine has). Every element, the tail of a run too (through a padded vector on the stack), takes the
/// same vector code, so its bits do not depend on where it falls in a run or a tile. In place is allowed.
/// </summary>
internal static class FloatVectorMap
{
    public static void Apply<TFunction>(ReadOnlySpan<float> x, Span<float> destination, TFunction function)
        where TFunction : struct, IFloatVectorFunction
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<float>.Count <= n; i += Vector512<float>.Count)
            {
                function.Apply(Vector512.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[Vector512<float>.Count];
                x[i..].CopyTo(tail);
                function.Apply(Vector512.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            {
                function.Apply(Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[Vector256<float>.Count];
                x[i..].CopyTo(tail);
                function.Apply(Vector256.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
        else
        {
            for (; i + Vector128<float>.Count <= n; i += Vector128<float>.Count)
            {
                function.Apply(Vector128.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[Vector128<float>.Count];
                x[i..].CopyTo(tail);
                function.Apply(Vector128.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
    }
}
