using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The float epilogue of one 8-column half of a <see cref="QgemmFloatPanel"/> (<see cref="QgemmFloatPanel.Half"/>),
/// for the AVX2 kernel's tiles, which cross panels half by half: the same operations in the same order as
/// <see cref="QgemmFloatPanel.StoreRow"/> on those columns, so the same bits.
/// </summary>
internal readonly unsafe struct QgemmFloatHalf
{
    private readonly float* _destination;
    private readonly float* _sum;
    private readonly nint _rowStride;
    private readonly Vector256<int> _term, _zb;
    private readonly Vector256<float> _scale, _bias;
    private readonly bool _symmetric, _hasBias;

    public QgemmFloatHalf(float* destination, float* sum, nint rowStride, Vector256<int> term, Vector256<int> zb, Vector256<float> scale, Vector256<float> bias, bool symmetric, bool hasBias)
    {
        _destination = destination;
        _sum = sum;
        _rowStride = rowStride;
        _term = term;
        _zb = zb;
        _scale = scale;
        _bias = bias;
        _symmetric = symmetric;
        _hasBias = hasBias;
    }

    /// <summary>Output row <paramref name="row"/> of the half from its raw sums and A's row sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Vector256<int> raw, int row, int rowSum)
    {
        var v = raw + _term;
        if (!_symmetric) v -= _zb * Vector256.Create(rowSum);
        var f = Vector256.ConvertToSingle(v) * _scale;
        if (_hasBias) f += _bias;
        nint at = row * _rowStride;
        if (_sum is not null) f += Vector256.Load(_sum + at);
        f.Store(_destination + at);
    }
}
