using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The even and odd columns of an input row split into the two column phases of a stride-2 <see cref="PhaseLayout"/>
/// (AVX-512 two-vector permutes, AVX2 shuffles, scalar otherwise).
/// </summary>
internal static unsafe class StrideTwoColumns
{
    /// <summary>
    /// even[q] = src[2q] and odd[q] = src[2q + 1] for the n floats of src: 32 (AVX-512) or 16 (AVX2) at a time; a null
    /// even or odd is a phase nothing reads, which is not written.
    /// </summary>
    public static void Deinterleave(float* src, int n, float* even, float* odd)
    {
        if (even == null || odd == null)
        {
            Gather(src, n, even == null ? 1 : 0, even == null ? odd : even);
            return;
        }

        int q = 0;
        if (!Avx512F.IsSupported && Avx2.IsSupported)
        {
            for (; 2 * q + 16 <= n; q += 8)
            {
                var lo = Vector256.Load(src + 2 * q);
                var hi = Vector256.Load(src + 2 * q + 8);

                // Per 128-bit lane the shuffles take lo's and hi's even (odd) pairs; the 64-bit permute puts lo's first.
                var evens = Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble();
                var odds = Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble();
                Avx2.Permute4x64(evens, 0b11_01_10_00).AsSingle().Store(even + q);
                Avx2.Permute4x64(odds, 0b11_01_10_00).AsSingle().Store(odd + q);
            }
        }

        if (Avx512F.IsSupported)
        {
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            for (; 2 * q + 32 <= n; q += 16)
            {
                var lo = Vector512.Load(src + 2 * q);
                var hi = Vector512.Load(src + 2 * q + 16);
                Avx512F.PermuteVar16x32x2(lo, evens, hi).Store(even + q);
                Avx512F.PermuteVar16x32x2(lo, odds, hi).Store(odd + q);
            }
        }

        for (int i = 2 * q; i < n; i++)
        {
            ((i & 1) == 0 ? even : odd)[i >> 1] = src[i];
        }
    }

    /// <summary>dst[q] = src[2q + first] for the floats of src from <paramref name="first"/> on.</summary>
    private static void Gather(float* src, int n, int first, float* dst)
    {
        int q = 0;
        if (Avx512F.IsSupported)
        {
            var picks = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + Vector512.Create(first);
            for (; 2 * q + 32 <= n; q += 16)
            {
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * q), picks, Vector512.Load(src + 2 * q + 16)).Store(dst + q);
            }

            // The row's last (up to 31) floats as masked vectors: ResNet's downsamples read rows of 56, 28 and 14, whose
            // scalar tails cost more than their vectors. (The same tail in Deinterleave measured faster on a layout in
            // cache but slower on a batch's worth that is not, so it stays scalar there.)
            int left = n - 2 * q;
            if (left > first)
            {
                var (lo, hi) = Tail(src + 2 * q, left);
                Avx512F.MaskStore(dst + q, Below((left - first + 1) / 2), Avx512F.PermuteVar16x32x2(lo, picks, hi));
                return;
            }
        }

        for (int i = 2 * q + first; i < n; i += 2)
        {
            dst[i >> 1] = src[i];
        }
    }

    /// <summary>
    /// The <paramref name="n"/> (below 32) floats at src as two vectors, zeros past them: AVX-512's masked loads touch no
    /// memory outside the mask.
    /// </summary>
    private static (Vector512<float> Lo, Vector512<float> Hi) Tail(float* src, int n) =>
        (Avx512F.MaskLoad(src, Below(n), Vector512<float>.Zero), Avx512F.MaskLoad(src + 16, Below(n - 16), Vector512<float>.Zero));

    /// <summary>A mask of the lanes below <paramref name="count"/>.</summary>
    private static Vector512<float> Below(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
}
