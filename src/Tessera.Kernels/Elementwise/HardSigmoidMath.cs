using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// HardSigmoid, max(0, min(1, alpha * x + beta)), and HardSwish, x times it, on float32 in one pass over the data
/// (the same multiply, add, clamp and multiply, each rounded, as four whole-span passes did: MobileNet-style models
/// apply these to every activation, and four passes were a seventh of PP-OCR's recogniser on the AVX2 path).
/// </summary>
internal static class HardSigmoidMath
{
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination, float alpha, float beta, bool swish)
    {
        ref float src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(alpha);
            var b = Vector512.Create(beta);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref src, (nuint)i);
                var g = Vector512.Min(Vector512.Max(v * a + b, Vector512<float>.Zero), Vector512<float>.One);
                (swish ? v * g : g).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            var b = Vector256.Create(beta);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var g = Vector256.Min(Vector256.Max(v * a + b, Vector256<float>.Zero), Vector256<float>.One);
                (swish ? v * g : g).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var a = Vector128.Create(alpha);
            var b = Vector128.Create(beta);
            for (; i + 4 <= n; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref src, (nuint)i);
                var g = Vector128.Min(Vector128.Max(v * a + b, Vector128<float>.Zero), Vector128<float>.One);
                (swish ? v * g : g).StoreUnsafe(ref dst, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            float g = MathF.Min(MathF.Max(v * alpha + beta, 0f), 1f);
            Unsafe.Add(ref dst, i) = swish ? v * g : g;
        }
    }
}
