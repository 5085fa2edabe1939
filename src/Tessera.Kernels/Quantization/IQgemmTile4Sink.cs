using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Where a <see cref="QgemmTile4x24{TStep, THalves}"/>'s twelve int32 accumulators go when its K loop ends: a struct,
/// so each sink is compiled into the tile with its work on the registers inlined.
/// </summary>
internal interface IQgemmTile4Sink
{
    /// <summary>Row i's sums are ci0, ci1, ci2: the tile's first, second and third 8-column half.</summary>
    void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c02, Vector256<int> c10, Vector256<int> c11, Vector256<int> c12,
        Vector256<int> c20, Vector256<int> c21, Vector256<int> c22, Vector256<int> c30, Vector256<int> c31, Vector256<int> c32);
}
