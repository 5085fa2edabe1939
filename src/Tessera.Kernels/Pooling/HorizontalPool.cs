using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// Reduces one (already vertically combined) input row along W into one output row. Outputs whose windows lie
/// wholly inside the row use SIMD: shifted span operations for stride 1, a deinterleave for float stride 2 with
/// 2- or 3-wide windows; edge outputs and other strides use a scalar loop over the in-bounds taps.
/// </summary>
internal readonly struct HorizontalPool<T, TOp>
    where T : unmanaged, INumber<T>
    where TOp : struct, IPoolReduction<T>
{
    private readonly int _kernel;
    private readonly int _stride;
    private readonly int _dilation;
    private readonly int[] _first;
    private readonly int[] _count;
    private readonly int _interiorLo;
    private readonly int _interiorHi;

    public HorizontalPool(PoolGeometry g)
    {
        _kernel = g.Kernel(2);
        _stride = g.Stride(2);
        _dilation = g.Dilation(2);
        _first = g.First(2);
        _count = g.Count(2);
        g.InteriorRange(2, out _interiorLo, out _interiorHi);
    }

    public void Reduce(ReadOnlySpan<T> source, Span<T> dest)
    {
        int lo = _interiorLo, hi = _interiorHi;
        Edges(source, dest, 0, lo);
        if (hi > lo)
        {
            if (_kernel == 1)
            {
                if (_stride == 1)
                {
                    source.Slice(_first[lo], hi - lo).CopyTo(dest[lo..hi]);
                }
                else
                {
                    Interior(source, dest, lo, hi);
                }
            }
            else if (_stride == 1)
            {
                var target = dest[lo..hi];
                int start = _first[lo];
                TOp.Combine(source.Slice(start, target.Length), source.Slice(start + _dilation, target.Length), target);
                for (int t = 2; t < _kernel; t++)
                {
                    TOp.Combine(target, source.Slice(start + t * _dilation, target.Length), target);
                }
            }
            else
            {
                int next = lo;
                if (typeof(T) == typeof(float) && _stride == 2 && _dilation == 1 && _kernel <= 3)
                {
                    next = StrideTwoFloat(source, dest, lo, hi);
                }

                Interior(source, dest, next, hi);
            }
        }

        Edges(source, dest, hi, dest.Length);
    }

    private void Interior(ReadOnlySpan<T> source, Span<T> dest, int from, int to)
    {
        int k = _kernel, d = _dilation;
        int[] first = _first;
        for (int ow = from; ow < to; ow++)
        {
            int i = first[ow];
            T acc = source[i];
            for (int t = 1; t < k; t++)
            {
                acc = TOp.Combine(acc, source[i + t * d]);
            }

            dest[ow] = acc;
        }
    }

    private void Edges(ReadOnlySpan<T> source, Span<T> dest, int from, int to)
    {
        int d = _dilation;
        for (int ow = from; ow < to; ow++)
        {
            int count = _count[ow];
            if (count == 0)
            {
                dest[ow] = TOp.Empty;
                continue;
            }

            int i = _first[ow];
            T acc = source[i];
            for (int t = 1; t < count; t++)
            {
                acc = TOp.Combine(acc, source[i + t * d]);
            }

            dest[ow] = acc;
        }
    }

    /// <summary>Four outputs per step from eight (or ten) inputs split into even and odd lanes; returns the first output left undone.</summary>
    private int StrideTwoFloat(ReadOnlySpan<T> source, Span<T> dest, int lo, int hi)
    {
        bool sse = Sse.IsSupported, neon = AdvSimd.Arm64.IsSupported;
        if (!sse && !neon)
        {
            return lo;
        }

        ref float src = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(source));
        ref float dst = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(dest));
        int reach = _kernel == 3 ? 10 : 8;
        int ow = lo;
        for (int i = _first[lo]; ow + 4 <= hi && i + reach <= source.Length; ow += 4, i += 8)
        {
            var a = Vector128.LoadUnsafe(ref src, (nuint)i);
            var b = Vector128.LoadUnsafe(ref src, (nuint)(i + 4));
            Vector128<float> even, odd;
            if (sse)
            {
                even = Sse.Shuffle(a, b, 0b10_00_10_00);
                odd = Sse.Shuffle(a, b, 0b11_01_11_01);
            }
            else
            {
                even = AdvSimd.Arm64.UnzipEven(a, b);
                odd = AdvSimd.Arm64.UnzipOdd(a, b);
            }

            Vector128<T> acc = TOp.Combine(even.As<float, T>(), odd.As<float, T>());
            if (_kernel == 3)
            {
                var c = Vector128.LoadUnsafe(ref src, (nuint)(i + 2));
                var e = Vector128.LoadUnsafe(ref src, (nuint)(i + 6));
                Vector128<float> next = sse ? Sse.Shuffle(c, e, 0b10_00_10_00) : AdvSimd.Arm64.UnzipEven(c, e);
                acc = TOp.Combine(acc, next.As<float, T>());
            }

            acc.As<T, float>().StoreUnsafe(ref dst, (nuint)ow);
        }

        return ow;
    }
}
