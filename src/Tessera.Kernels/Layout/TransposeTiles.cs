using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Layout;

/// <summary>Register-resident square transposes: 8×8 of 4-byte words (AVX), 4×4 of 8-byte words (AVX), 8×8 of 2-byte words (SSE2).</summary>
internal static class TransposeTiles
{
    /// <summary>The tile edge for word type <typeparamref name="T"/> on this machine, or 0 when only scalar moves apply.</summary>
    public static int TileSize<T>()
    {
        if (typeof(T) == typeof(uint))
        {
            return Avx.IsSupported ? 8 : 0;
        }

        if (typeof(T) == typeof(ulong))
        {
            return Avx.IsSupported ? 4 : 0;
        }

        if (typeof(T) == typeof(ushort))
        {
            return Sse2.IsSupported ? 8 : 0;
        }

        return 0;
    }

    /// <summary>dst[c·dstRow + r] = src[r·srcRow + c] for one tile; only called when <see cref="TileSize{T}"/> is non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile<T>(ref T src, int srcRow, ref T dst, int dstRow)
    {
        if (typeof(T) == typeof(uint))
        {
            Tile8x8(ref Unsafe.As<T, float>(ref src), srcRow, ref Unsafe.As<T, float>(ref dst), dstRow);
        }
        else if (typeof(T) == typeof(ulong))
        {
            Tile4x4(ref Unsafe.As<T, double>(ref src), srcRow, ref Unsafe.As<T, double>(ref dst), dstRow);
        }
        else if (typeof(T) == typeof(ushort))
        {
            Tile8x8(ref Unsafe.As<T, ushort>(ref src), srcRow, ref Unsafe.As<T, ushort>(ref dst), dstRow);
        }
    }

    private static Vector256<float> Load(ref float p, int row, int stride) => Vector256.LoadUnsafe(ref Unsafe.Add(ref p, (nint)row * stride));

    private static void Tile8x8(ref float src, int srcRow, ref float dst, int dstRow)
    {
        Vector256<float> r0 = Load(ref src, 0, srcRow), r1 = Load(ref src, 1, srcRow);
        Vector256<float> r2 = Load(ref src, 2, srcRow), r3 = Load(ref src, 3, srcRow);
        Vector256<float> r4 = Load(ref src, 4, srcRow), r5 = Load(ref src, 5, srcRow);
        Vector256<float> r6 = Load(ref src, 6, srcRow), r7 = Load(ref src, 7, srcRow);

        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst, 0);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref dst, (nuint)dstRow);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)2 * dstRow));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)3 * dstRow));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)4 * dstRow));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)5 * dstRow));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)6 * dstRow));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)7 * dstRow));
    }

    private static void Tile4x4(ref double src, int srcRow, ref double dst, int dstRow)
    {
        var r0 = Vector256.LoadUnsafe(ref src);
        var r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, (nint)srcRow));
        var r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, (nint)2 * srcRow));
        var r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, (nint)3 * srcRow));
        Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<double> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)dstRow));
        Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)2 * dstRow));
        Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, (nint)3 * dstRow));
    }

    private static Vector128<ushort> Load(ref ushort p, int row, int stride) => Vector128.LoadUnsafe(ref Unsafe.Add(ref p, (nint)row * stride));

    private static void Tile8x8(ref ushort src, int srcRow, ref ushort dst, int dstRow)
    {
        Vector128<uint> b0 = Sse2.UnpackLow(Load(ref src, 0, srcRow), Load(ref src, 1, srcRow)).AsUInt32();
        Vector128<uint> b1 = Sse2.UnpackHigh(Load(ref src, 0, srcRow), Load(ref src, 1, srcRow)).AsUInt32();
        Vector128<uint> b2 = Sse2.UnpackLow(Load(ref src, 2, srcRow), Load(ref src, 3, srcRow)).AsUInt32();
        Vector128<uint> b3 = Sse2.UnpackHigh(Load(ref src, 2, srcRow), Load(ref src, 3, srcRow)).AsUInt32();
        Vector128<uint> b4 = Sse2.UnpackLow(Load(ref src, 4, srcRow), Load(ref src, 5, srcRow)).AsUInt32();
        Vector128<uint> b5 = Sse2.UnpackHigh(Load(ref src, 4, srcRow), Load(ref src, 5, srcRow)).AsUInt32();
        Vector128<uint> b6 = Sse2.UnpackLow(Load(ref src, 6, srcRow), Load(ref src, 7, srcRow)).AsUInt32();
        Vector128<uint> b7 = Sse2.UnpackHigh(Load(ref src, 6, srcRow), Load(ref src, 7, srcRow)).AsUInt32();

        Vector128<ulong> c0 = Sse2.UnpackLow(b0, b2).AsUInt64(), c1 = Sse2.UnpackHigh(b0, b2).AsUInt64();
        Vector128<ulong> c2 = Sse2.UnpackLow(b1, b3).AsUInt64(), c3 = Sse2.UnpackHigh(b1, b3).AsUInt64();
        Vector128<ulong> c4 = Sse2.UnpackLow(b4, b6).AsUInt64(), c5 = Sse2.UnpackHigh(b4, b6).AsUInt64();
        Vector128<ulong> c6 = Sse2.UnpackLow(b5, b7).AsUInt64(), c7 = Sse2.UnpackHigh(b5, b7).AsUInt64();

        Store(Sse2.UnpackLow(c0, c4), ref dst, 0, dstRow);
        Store(Sse2.UnpackHigh(c0, c4), ref dst, 1, dstRow);
        Store(Sse2.UnpackLow(c1, c5), ref dst, 2, dstRow);
        Store(Sse2.UnpackHigh(c1, c5), ref dst, 3, dstRow);
        Store(Sse2.UnpackLow(c2, c6), ref dst, 4, dstRow);
        Store(Sse2.UnpackHigh(c2, c6), ref dst, 5, dstRow);
        Store(Sse2.UnpackLow(c3, c7), ref dst, 6, dstRow);
        Store(Sse2.UnpackHigh(c3, c7), ref dst, 7, dstRow);
    }

    private static void Store(Vector128<ulong> column, ref ushort dst, int row, int stride) =>
        column.AsUInt16().StoreUnsafe(ref Unsafe.Add(ref dst, (nint)row * stride));
}
