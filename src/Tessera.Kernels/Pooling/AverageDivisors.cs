using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// Turns window sums into averages. A box window's divisor is the product of its per-dimension tap counts
/// (taps inside the input, or inside input plus pads for count_include_pad), so it is applied as a per-column
/// factor times a per-row factor.
/// </summary>
internal sealed class AverageDivisors<T>
    where T : unmanaged, INumber<T>
{
    private readonly T[] _inverseColumn;
    private readonly int[] _countD;
    private readonly int[] _countH;
    private readonly int[] _countW;
    private readonly bool _uniformColumns;

    public AverageDivisors(PoolGeometry g, bool countIncludePad)
    {
        _countD = countIncludePad ? g.PaddedCount(0) : g.Count(0);
        _countH = countIncludePad ? g.PaddedCount(1) : g.Count(1);
        _countW = countIncludePad ? g.PaddedCount(2) : g.Count(2);
        _inverseColumn = new T[_countW.Length];
        _uniformColumns = true;
        for (int i = 0; i < _countW.Length; i++)
        {
            _inverseColumn[i] = T.One / T.CreateChecked(_countW[i]);
            _uniformColumns &= _countW[i] == _countW[0];
        }
    }

    public void Apply(Span<T> row, int od, int oh)
    {
        int vertical = _countD[od] * _countH[oh];
        if (_uniformColumns)
        {
            TensorPrimitives.Multiply(row, T.One / T.CreateChecked(vertical * _countW[0]), row);
            return;
        }

        TensorPrimitives.Multiply(row, _inverseColumn, row);
        if (vertical != 1)
        {
            TensorPrimitives.Multiply(row, T.One / T.CreateChecked(vertical), row);
        }
    }
}
