using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Cli.Bench;

/// <summary>
/// The int8 roof for one thread: AVX-VNNI vpdpbusd on 256-bit vectors (32 u8 × s8 multiply-adds each), the widest
/// integer dot product .NET 10 exposes (no 512-bit VNNI), in 10^9 operations (2 per multiply-add) per second. Where
/// the processor runs two such instructions per cycle, as two 512-bit FMAs, this is twice the 512-bit FMA roof, not
/// four times: the bound the int8 GEMM's speed-up over float is read against.
/// </summary>
internal static class VnniRoofline
{
    /// <summary>GOP/s, or null where this process has no AVX-VNNI.</summary>
    public static RoofRate? Measure(double seconds, int rounds) =>
        AvxVnni.IsSupported ? FmaRoofline.Best(steps => Chains256(steps), 32, seconds, rounds) : null;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int Chains256(long steps)
    {
        var a = Vector256.Create((byte)3);
        var b = Vector256.Create((sbyte)-2);
        var c0 = Vector256<int>.Zero;
        var c1 = Vector256<int>.Zero;
        var c2 = Vector256<int>.Zero;
        var c3 = Vector256<int>.Zero;
        var c4 = Vector256<int>.Zero;
        var c5 = Vector256<int>.Zero;
        var c6 = Vector256<int>.Zero;
        var c7 = Vector256<int>.Zero;
        var c8 = Vector256<int>.Zero;
        var c9 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero;
        var c11 = Vector256<int>.Zero;
        for (long i = 0; i < steps; i++)
        {
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, a, b);
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, a, b);
            c2 = AvxVnni.MultiplyWideningAndAdd(c2, a, b);
            c3 = AvxVnni.MultiplyWideningAndAdd(c3, a, b);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, a, b);
            c5 = AvxVnni.MultiplyWideningAndAdd(c5, a, b);
            c6 = AvxVnni.MultiplyWideningAndAdd(c6, a, b);
            c7 = AvxVnni.MultiplyWideningAndAdd(c7, a, b);
            c8 = AvxVnni.MultiplyWideningAndAdd(c8, a, b);
            c9 = AvxVnni.MultiplyWideningAndAdd(c9, a, b);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, a, b);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, a, b);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }
}
