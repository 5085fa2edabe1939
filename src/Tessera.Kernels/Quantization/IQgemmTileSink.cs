using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Where a 6 x 16 tile's twelve int32 accumulators go when its K loop ends (<see cref="QgemmTile6x16{TStep}"/>): a
/// struct, so each sink is compiled into the tile with its work on the registers inlined.
/// </summary>
internal interface IQgemmTileSink
{
    /// <summary>Row i's sums are ci0 (columns 0-7) and ci1 (columns 8-15).</summary>
    void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c10, Vector256<int> c11, Vector256<int> c20, Vector256<int> c21,
        Vector256<int> c30, Vector256<int> c31, Vector256<int> c40, Vector256<int> c41, Vector256<int> c50, Vector256<int> c51);
}
