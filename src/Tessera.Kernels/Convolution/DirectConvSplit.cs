namespace Tessera.Kernels.Convolution;

/// <summary>
/// How the threads of one image's direct convolution share it: contiguous ranges of 8-channel slivers (every part
/// sweeps all columns) or of 48-column tiles (every part runs all slivers), whichever gives the busiest thread the
/// least work. Work is counted per micro-kernel call, so a late layer's 64 columns (one 48-wide tile and one 16-wide
/// tile) are not split 48 / 16 between two threads.
/// </summary>
internal readonly struct DirectConvSplit
{
    private const int Nr = DirectConvMicroKernel.Nr;

    // Cost of a 16-column micro-kernel call relative to a third of the 48-column one: it issues 9 loads per 8 FMAs
    // instead of 11 per 24, so it runs closer to the load ports' limit.
    private const double NarrowCost = 1.5;

    private readonly int _slivers;
    private readonly int _columns;
    private readonly int _tiles;
    private readonly bool _bySlivers;

    public DirectConvSplit(int slivers, int paddedColumns, int degree)
    {
        _slivers = slivers;
        _columns = paddedColumns;
        _tiles = (paddedColumns + Nr - 1) / Nr;
        int bySlivers = Math.Clamp(degree, 1, slivers), byTiles = Math.Clamp(degree, 1, _tiles);
        double sliverCost = (double)((slivers + bySlivers - 1) / bySlivers) * ColumnCost(paddedColumns);
        double tileCost = 0;
        for (int p = 0; p < byTiles; p++)
        {
            var (c0, c1) = TileColumns(p, byTiles);
            tileCost = Math.Max(tileCost, slivers * ColumnCost(c1 - c0));
        }

        // Ties go to slivers: each part then finishes whole output channels in long runs.
        _bySlivers = sliverCost <= tileCost;
        Parts = _bySlivers ? bySlivers : byTiles;
    }

    public int Parts { get; }

    /// <summary>Part p: slivers [S0, S1) against columns [C0, C1) of the implicit B.</summary>
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
        ((int)((long)_tiles * p / parts) * Nr, Math.Min(_columns, (int)((long)_tiles * (p + 1) / parts) * Nr));

    private static double ColumnCost(int columns) => columns / Nr * 3 + columns % Nr / 16 * NarrowCost;
}
