using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The one instruction that differs between the 6 x 16 int8 tiles (<see cref="QgemmTile6x16"/>): how a row's broadcast
/// K group meets 8 columns of packed B and adds to their int32 sums. A struct, so the tile is compiled per ISA with it inlined.
/// </summary>
internal interface IQgemmStep
{
    static abstract Vector256<int> Accumulate(Vector256<int> sums, Vector256<int> a, Vector256<int> b);
}
