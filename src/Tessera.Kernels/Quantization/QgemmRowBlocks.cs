namespace Tessera.Kernels.Quantization;

/// <summary>
/// How an integer GEMM cuts A's rows into the blocks its jobs pack and multiply: <see cref="Count"/> blocks of whole
/// Mr tiles (only the matrix's last tile may be short), as equal as whole tiles allow, none over
/// <see cref="Qgemm.RowBlock"/> rows.
/// </summary>
/// <remarks>
/// Equal blocks matter because threads take contiguous runs of jobs: 1024 rows cut into blocks of one height were 11
/// of 90 rows and a last one of 34, so on 2 threads one thread's six blocks held 540 rows and the other's 484, and the
/// product took 6 block times where 5.7 would do; tiles shared out evenly give 510 and 514.
/// </remarks>
internal readonly struct QgemmRowBlocks
{
    private readonly int _rows;
    private readonly int _mr;
    private readonly int _tiles;

    public QgemmRowBlocks(int rows, int mr, int count)
    {
        _rows = rows;
        _mr = mr;
        _tiles = (rows + mr - 1) / mr;
        Count = Math.Clamp(count, 1, Math.Max(1, _tiles));
    }

    public int Count { get; }

    /// <summary>The fewest blocks <paramref name="rows"/> rows need: each at most <see cref="Qgemm.RowBlock"/> rows of whole tiles.</summary>
    public static int Fewest(int rows, int mr)
    {
        int tilesPerBlock = Math.Max(1, Qgemm.RowBlock / mr);
        return Math.Max(1, ((rows + mr - 1) / mr + tilesPerBlock - 1) / tilesPerBlock);
    }

    /// <summary>The first row of block <paramref name="block"/> and how many rows it has.</summary>
    public (int Row, int Count) Block(int block)
    {
        int first = (int)((long)_tiles * block / Count) * _mr;
        int end = Math.Min(_rows, (int)((long)_tiles * (block + 1) / Count) * _mr);
        return (first, end - first);
    }
}
