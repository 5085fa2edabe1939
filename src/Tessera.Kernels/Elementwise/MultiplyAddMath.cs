using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// a·b + c for the float functions (<see cref="ExpMath"/>, GELU): one fused instruction where the processor has FMA,
/// a multiply and an add where it has not (Vector*.FusedMultiplyAdd would then round each lane in software). The choice
/// is the machine's, the same at every width, so a lane's bits do not depend on the vector it is in: 512-bit vectors
/// exist only with AVX-512, which has FMA, and a 512-bit vector emulated on a smaller tier fuses in software too.
/// </summary>
internal static class MultiplyAddMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Fma.IsSupported ? Vector512.FusedMultiplyAdd(a, b, c) : (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;
}
