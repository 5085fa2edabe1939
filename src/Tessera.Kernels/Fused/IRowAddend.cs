using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>
/// What <see cref="ScaleMaskSoftmaxRow"/> adds to each scaled score of a row: a mask row (<see cref="RowAddendMask"/>)
/// or one value for the whole row (<see cref="RowAddendValue"/>). A struct the scale-add-max loop is generic over, so
/// the JIT compiles one loop per kind with the addend inlined.
/// </summary>
internal interface IRowAddend
{
    /// <summary>
    /// Whether the row takes the 512-bit loop where AVX-512 is on. The mask rows do; the one-value rows keep the
    /// 256-bit loop with four maxima that issue 16a7 measured on them (a 512-bit loop for them is not measured).
    /// </summary>
    static abstract bool Has512BitLoop { get; }

    float At(int i);

    Vector256<float> Vector256At(int i);

    Vector512<float> Vector512At(int i);
}
