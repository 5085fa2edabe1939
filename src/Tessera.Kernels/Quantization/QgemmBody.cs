using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>Jobs of one integer GEMM: each a block of A's rows times a share of B's panels (<see cref="QgemmBlock"/>).</summary>
internal readonly unsafe struct QgemmBody<TRows> : IRangeBody
    where TRows : struct, IQgemmRows
{
    private readonly QgemmRowBlocks _blocks;
    private readonly QgemmPackedB _b;
    private readonly TRows _rows;
    private readonly QgemmOutput _output;
    private readonly int _panelSplit;

    public QgemmBody(QgemmRowBlocks blocks, QgemmPackedB b, TRows rows, QgemmOutput output, int panelSplit)
    {
        _blocks = blocks;
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
            var (row, count) = _blocks.Block(job / _panelSplit);
            int share = job % _panelSplit;
            block.Run(_rows, _b, _output, row, count, share * _b.Panels / _panelSplit, (share + 1) * _b.Panels / _panelSplit);
        }
    }
}
