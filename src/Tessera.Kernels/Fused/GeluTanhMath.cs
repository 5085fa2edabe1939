using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>
/// GELU's tanh form on float32 in one pass: 0.5·x·(1 + tanh(u)) with u = √(2/π)·x·(1 + 0.044715·x²) is x·σ(2u) =
/// x / (1 + e^(−2u)), one exponential and one division per element instead of eight whole-span passes around a tanh
/// (which were a quarter of a GPT-style decoder's time). Every element, the tail of a run too (through a padded
/// vector), takes the same vector code, so its bits do not depend on where it falls in a run or a tile.
/// </summary>
internal static class GeluTanhMath
{
    private const float Sqrt2OverPi = 0.7978845608f;
    private const float Cubic = 0.044715f;

    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Gelu(Vector512.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[16];
                x[i..].CopyTo(tail);
                Gelu(Vector512.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Gelu(Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[8];
                x[i..].CopyTo(tail);
                Gelu(Vector256.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
        else
        {
            for (; i + 4 <= n; i += 4)
            {
                Gelu(Vector128.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            }

            if (i < n)
            {
                Span<float> tail = stackalloc float[4];
                x[i..].CopyTo(tail);
                Gelu(Vector128.Create<float>(tail)).CopyTo(tail);
                tail[..(n - i)].CopyTo(destination[i..]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gelu(Vector512<float> x)
    {
        var u = x * Vector512.Create(Sqrt2OverPi) * (Vector512<float>.One + x * x * Vector512.Create(Cubic));
        return x / (Vector512<float>.One + Vector512.Exp(u * Vector512.Create(-2f)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gelu(Vector256<float> x)
    {
        var u = x * Vector256.Create(Sqrt2OverPi) * (Vector256<float>.One + x * x * Vector256.Create(Cubic));
        return x / (Vector256<float>.One + Vector256.Exp(u * Vector256.Create(-2f)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Gelu(Vector128<float> x)
    {
        var u = x * Vector128.Create(Sqrt2OverPi) * (Vector128<float>.One + x * x * Vector128.Create(Cubic));
        return x / (Vector128<float>.One + Vector128.Exp(u * Vector128.Create(-2f)));
    }
}
