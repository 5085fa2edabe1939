using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The 16-float finishing steps of <see cref="ChannelBlockedConv"/> (a transposed channel row of 16 pixels, or one
/// pixel's 16 channels of a block): (+ bias) (+ sum), in that order, then max(., +0) with Relu. One AVX-512 vector, or
/// two AVX2 ones with the same operations on each element, so both tiers give the same bits.
/// </summary>
internal static unsafe class ChannelBlockStore
{
    /// <summary>dst[0, 16) = src (+ bias[0, 16)) (+ sum[0, 16)), then max(., +0) when <paramref name="relu"/>; dst may be src.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pixel(float* src, float* bias, float* sum, float* dst, bool relu)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Pixel(Vector512.Load(src), bias, sum, dst, relu);
            return;
        }

        for (int h = 0; h < 16; h += 8)
        {
            var t = Vector256.Load(src + h);
            t = bias != null ? t + Vector256.Load(bias + h) : t;
            t = sum != null ? t + Vector256.Load(sum + h) : t;
            (relu ? Vector256.Max(t, Vector256<float>.Zero) : t).Store(dst + h);
        }
    }

    /// <summary>dst[0, 16) = t (+ bias[0, 16)) (+ sum[0, 16)), then max(., +0) when <paramref name="relu"/> (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pixel(Vector512<float> t, float* bias, float* sum, float* dst, bool relu)
    {
        t = bias != null ? t + Vector512.Load(bias) : t;
        t = sum != null ? t + Vector512.Load(sum) : t;
        (relu ? Vector512.Max(t, Vector512<float>.Zero) : t).Store(dst);
    }

    /// <summary>
    /// dst[lane, lane + length) = values (+ b) (+ sum), in that order, then max(., +0) when <paramref name="relu"/>.
    /// Lanes outside the run belong to another image or lie past the plane: the masked loads and stores (AVX-512's, or
    /// AVX's vmaskmovps) touch no memory outside the mask.
    /// </summary>
    public static void Run(float* values, bool hasBias, float b, float* sum, float* dst, int lane, int length, bool relu)
    {
        bool whole = lane == 0 && length == 16;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Load(values);
            v = hasBias ? v + Vector512.Create(b) : v;
            if (whole)
            {
                v = sum != null ? v + Vector512.Load(sum) : v;
                (relu ? Vector512.Max(v, Vector512<float>.Zero) : v).Store(dst);
                return;
            }

            var indices = Vector512<int>.Indices;
            var mask = (Vector512.GreaterThanOrEqual(indices, Vector512.Create(lane))
                & Vector512.LessThan(indices, Vector512.Create(lane + length))).AsSingle();
            v = sum != null ? v + Avx512F.MaskLoad(sum, mask, Vector512<float>.Zero) : v;
            Avx512F.MaskStore(dst, mask, relu ? Vector512.Max(v, Vector512<float>.Zero) : v);
            return;
        }

        for (int h = 0; h < 16; h += 8)
        {
            if (!whole && (lane >= h + 8 || lane + length <= h))
            {
                continue;
            }

            var v = Vector256.Load(values + h);
            v = hasBias ? v + Vector256.Create(b) : v;
            if (whole || (lane <= h && lane + length >= h + 8))
            {
                v = sum != null ? v + Vector256.Load(sum + h) : v;
                (relu ? Vector256.Max(v, Vector256<float>.Zero) : v).Store(dst + h);
                continue;
            }

            var indices = Vector256<int>.Indices + Vector256.Create(h);
            var mask = (Vector256.GreaterThanOrEqual(indices, Vector256.Create(lane))
                & Vector256.LessThan(indices, Vector256.Create(lane + length))).AsSingle();
            v = sum != null ? v + Avx.MaskLoad(sum + h, mask) : v;
            Avx.MaskStore(dst + h, mask, relu ? Vector256.Max(v, Vector256<float>.Zero) : v);
        }
    }
}
