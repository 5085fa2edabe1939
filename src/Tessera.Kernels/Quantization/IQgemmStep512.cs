using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The one instruction that differs between the 512-bit 6 x 16 int8 tiles (<see cref="QgemmTile6x16x512{TStep}"/>):
/// how a row's broadcast K group meets a whole 16-column panel of packed B and adds to its int32 sums. A struct, so the
/// tile is compiled per step with it inlined (<see cref="IQgemmStep"/> at 256 bits).
/// </summary>
internal interface IQgemmStep512
{
    static abstract Vector512<int> Accumulate(Vector512<int> sums, Vector512<int> a, Vector512<int> b);
}
