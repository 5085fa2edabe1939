namespace Tessera.Kernels.Convolution;

/// <summary>
/// How the threads of one batch's direct convolution share it: contiguous ranges of Mr-channel slivers (every part
/// sweeps all columns) or of Nr-column tiles of the batch's column space (every part runs all slivers), whichever
/// gives the busiest thread the least work (<see cref="DirectConvTile"/>; AVX-512: 8 channels, 48 columns). Work is
/// counted per micro-kernel call within each image's columns, so a late layer's 64 columns (with AVX-512 one 48-wide
/// tile and one 16-wide tile) are not split 48 / 16 between two threads.
/// </summary>
internal readonly struct DirectConvSplit
{
    private readonly DirectConvTile _tile;
    private readonly int _slivers;
    private readonly int _imageColumns;
    private readonly int _columns;
    private readonly int _tiles;
    private readonly bool _bySlivers;

    /// <param name="imageColumns">Padded columns of one image (a multiple of 16); the batch has <paramref name="images"/> of them.</param>
    public DirectConvSplit(DirectConvTile tile, int slivers, int imageColumns, int images, int degree)
    {
        _tile = tile;
        _slivers = slivers;
        _imageColumns = imageColumns;
        _columns = imageColumns * images;
        _tiles = (_columns + tile.Nr - 1) / tile.Nr;
        int bySlivers = Math.Clamp(degree, 1, slivers), byTiles = Math.Clamp(degree, 1, _tiles);
        double sliverCost = (double)((slivers + bySlivers - 1) / bySlivers) * ColumnCost(0, _columns);
        double tileCost = 0;
        for (int p = 0; p < byTiles; p++)
        {
            var (c0, c1) = TileColumns(p, byTiles);
            tileCost = Math.Max(tileCost, slivers * ColumnCost(c0, c1));
        }

        // Ties go to slivers: each part then finishes whole output channels in long runs. Column halves (each thread
        // reading half the layout and all the weights) for ResNet-18's AVX-512 layers at batch 1 whose column cost is
        // within 10% of the sliver cost (the stem, 56x56 and strided 28x28 ones) measured 1.028x the CPU of their
        // sliver halves (WorkerPoolTrace chunk times, 3 alternated pairs at 2 threads, load 26-30): near-ties stay slivers.
        _bySlivers = sliverCost <= tileCost;
        Parts = _bySlivers ? bySlivers : byTiles;
    }

    public int Parts { get; }

    /// <summary>Part p: slivers [S0, S1) against columns [C0, C1) of the batch's column space.</summary>
    public (int S0, int S1, int C0, int C1) Part(int p)
    {
        if (_bySlivers)
        {
            return ((int)((long)_slivers * p / Parts), (int)((long)_slivers * (p + 1) / Parts), 0, _columns);
        }

        var (c0, c1) = TileColumns(p, Parts);
        return (0, _slivers, c0, c1);
    }

    private (int C0, int C1) TileColumns(int p, int parts) =>
        ((int)((long)_tiles * p / parts) * _tile.Nr, Math.Min(_columns, (int)((long)_tiles * (p + 1) / parts) * _tile.Nr));

    /// <summary>Micro-kernel calls for columns [c0, c1), which the kernel tiles image by image.</summary>
    private double ColumnCost(int c0, int c1)
    {
        double cost = 0;
        for (int start = c0; start < c1;)
        {
            int end = Math.Min(c1, (start / _imageColumns + 1) * _imageColumns);
            cost += _tile.ColumnCost(end - start);
            start = end;
        }

        return cost;
    }
}
