using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The float epilogue of one whole 16-column panel of a float output with unit column stride: the column terms of the
/// zero-point correction, the scales and the biases loaded once for all the panel's row tiles, and where its rows go.
/// Per element: the exact integer sum corrected, one conversion, one multiply, then the bias, then the residual sum,
/// in that order (the scalar <see cref="QgemmOutput.Store"/> gives the same bits, and the unfused Add the same too).
/// Mutable and set in place (<see cref="Set"/>): a block's loop over panels had built each one in a temporary and
/// copied its 300 bytes into the local the tiles point at (a Memmove call, 0.5% of int8 BERT's samples, perf).
/// </summary>
internal unsafe struct QgemmFloatPanel
{
    // Element (m, c) of the panel is at _destination[m * _rowStride + c], its residual at _sum[m * _rowStride + c].
    private float* _destination;
    private float* _sum;
    private nint _rowStride;
    private Vector256<int> _term0, _term1, _zb0, _zb1;
    private Vector256<float> _scale0, _scale1, _bias0, _bias1;
    private bool _symmetric, _hasBias;

    /// <summary>
    /// Makes this columns [col, col + 16) of <paramref name="output"/> (Float, column stride 1, all 16 columns in the
    /// product). Sets every field read later: a panel is set again for other products (the biases only matter with _hasBias).
    /// </summary>
    public void Set(in QgemmOutput output, int col)
    {
        int j = output.ColumnBase + col;
        var zb = output.BZero.AsSpan(j, QgemmConfig.Nr);
        var sums = output.ColumnSums.AsSpan(col, QgemmConfig.Nr);
        var azk = Vector256.Create(output.AZero * output.K);
        var az = Vector256.Create(output.AZero);
        _zb0 = Vector256.Create<int>(zb);
        _zb1 = Vector256.Create<int>(zb[8..]);
        _term0 = (azk * _zb0) - (az * Vector256.Create<int>(sums));
        _term1 = (azk * _zb1) - (az * Vector256.Create<int>(sums[8..]));
        // Symmetric weights (B's zero points 0, as int8 weights usually are) skip the row term.
        _symmetric = (_zb0 | _zb1) == Vector256<int>.Zero;
        var scale = output.Scale!.AsSpan(j, QgemmConfig.Nr);
        _scale0 = Vector256.Create<float>(scale);
        _scale1 = Vector256.Create<float>(scale[8..]);
        _hasBias = output.FloatBias is not null;
        if (_hasBias)
        {
            var bias = output.FloatBias.AsSpan(j, QgemmConfig.Nr);
            _bias0 = Vector256.Create<float>(bias);
            _bias1 = Vector256.Create<float>(bias[8..]);
        }

        if (output.PartData is { } parts)
        {
            // Parts are whole tiles wide: this panel is columns col - part·PartColumns on of its part (no residual).
            int part = col / output.PartColumns;
            _destination = (float*)parts[part] + (col - (part * output.PartColumns));
            _sum = null;
            _rowStride = output.PartColumns;
        }
        else
        {
            _destination = (float*)output.Data + col;
            _sum = output.Sum is null ? null : output.Sum + col;
            _rowStride = output.RowStride;
        }
    }

    /// <summary>
    /// Output rows [row, row + rows) of the panel from a stored int32 tile (a block's last, short row tile): the panel's
    /// terms as set for its whole tiles, rather than built again per tile.
    /// </summary>
    public readonly void StoreTile(int* tile, int row, int rows, int* rowSums)
    {
        for (int r = 0; r < rows; r++, tile += QgemmConfig.Nr)
        {
            StoreRow(Vector256.Load(tile), Vector256.Load(tile + 8), row + r, rowSums[r]);
        }
    }

    /// <summary>Output row <paramref name="row"/> of the panel from its raw sums (columns 0-7 and 8-15) and A's row sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreRow(Vector256<int> raw0, Vector256<int> raw1, int row, int rowSum)
    {
        var v0 = raw0 + _term0;
        var v1 = raw1 + _term1;
        if (!_symmetric)
        {
            var sum = Vector256.Create(rowSum);
            v0 -= _zb0 * sum;
            v1 -= _zb1 * sum;
        }

        var f0 = Vector256.ConvertToSingle(v0) * _scale0;
        var f1 = Vector256.ConvertToSingle(v1) * _scale1;
        if (_hasBias)
        {
            f0 += _bias0;
            f1 += _bias1;
        }

        nint at = row * _rowStride;
        if (_sum is not null)
        {
            f0 += Vector256.Load(_sum + at);
            f1 += Vector256.Load(_sum + at + 8);
        }

        f0.Store(_destination + at);
        f1.Store(_destination + at + 8);
    }
}
