using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Jobs of a batch of integer GEMMs of one shape (an attention product over batch x heads): job j is batch
/// j / (row blocks x panel shares), one block of its rows times one share of its own packed B. Batch i's output is
/// i x outputBatchBytes on, or outputOffsets[i] bytes on when the batches' outputs interleave (heads written into
/// [b, s, h, d]).
/// </summary>
internal readonly unsafe struct QgemmBatchBody<TRows> : IRangeBody
    where TRows : struct, IQgemmBatchRows<TRows>
{
    private readonly QgemmRowBlocks _blocks;
    private readonly int _panelSplit;
    private readonly QgemmPackedB[] _b;
    private readonly int[] _aOffsets;
    private readonly TRows _rows;
    private readonly QgemmOutput _output;
    private readonly long _outputBatchBytes;
    private readonly long[]? _outputOffsets;
    private readonly QgemmRowLimits _limits;

    public QgemmBatchBody(QgemmRowBlocks blocks, int panelSplit, QgemmPackedB[] b, int[] aOffsets, TRows rows, QgemmOutput output, long outputBatchBytes, long[]? outputOffsets, QgemmRowLimits limits)
    {
        _limits = limits;
        _blocks = blocks;
        _panelSplit = panelSplit;
        _b = b;
        _aOffsets = aOffsets;
        _rows = rows;
        _output = output;
        _outputBatchBytes = outputBatchBytes;
        _outputOffsets = outputOffsets;
    }

    public long OutputOffset(int batch) => _outputOffsets is null ? batch * _outputBatchBytes : _outputOffsets[batch];

    public void Invoke(int start, int end)
    {
        var config = _b[0].Config;
        int* sums = stackalloc int[Qgemm.RowBlock];
        int* tile = stackalloc int[config.Mr * QgemmConfig.Nr];
        var block = new QgemmBlock(config, _b[0].KPadded, sums, tile);
        for (int job = start; job < end; job++)
        {
            int batch = job / (_blocks.Count * _panelSplit);
            int inBatch = job % (_blocks.Count * _panelSplit);
            var (row, count) = _blocks.Block(inBatch / _panelSplit);
            int share = inBatch % _panelSplit;
            var b = _b[batch];
            var rows = _rows.Skip(_aOffsets[batch]);
            var output = _output with { Data = _output.Data + OutputOffset(batch), ColumnSums = b.ColumnSums };
            block.Run(rows, b, output, row, count, share * b.Panels / _panelSplit, (share + 1) * b.Panels / _panelSplit, _limits);
        }
    }
}
