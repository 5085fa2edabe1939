using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>Jobs of one integer GEMM: each a block of A's rows times a share of B's panels (<see cref="QgemmBlock"/>).</summary>
internal readonly unsafe struct QgemmBody<TRows> : IRangeBody
    where TRows : struct, IQgemmRows
{
    private readonly int _m;
    private readonly int _blockRows;
    private readonly QgemmPackedB _b;
    private readonly TRows _rows;
    private readonly QgemmOutput _output;
    private readonly int _panelSplit;

    public QgemmBody(int m, int blockRows, QgemmPackedB b, TRows rows, QgemmOutput output, int panelSplit)
    {
        _m = m;
        _blockRows = blockRows;
        _b = b;
        _rows = rows;
        _output = output;
        _panelSplit = panelSplit;
    }

    public void Invoke(int start, int end)
    {
        int* sums = stackalloc int[Qgemm.RowBlock];
        int* tile = stackalloc int[_b.Config.Mr * QgemmConfig.Nr];
        var block = new QgemmBlock(_b.Config, _b.KPadded, sums, tile);
        for (int job = start; job < end; job++)
        {
            int row = job / _panelSplit * _blockRows;
            int share = job % _panelSplit;
            block.Run(_rows, _b, _output, row, Math.Min(_blockRows, _m - row), share * _b.Panels / _panelSplit, (share + 1) * _b.Panels / _panelSplit);
        }
    }
}
