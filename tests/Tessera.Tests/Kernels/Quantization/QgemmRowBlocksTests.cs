using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

public sealed class QgemmRowBlocksTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void BlocksCoverTheRowsOnceInWholeTilesOfAboutEqualHeight(int mr)
    {
        for (int rows = 1; rows <= 1100; rows += rows < 200 ? 1 : 37)
        {
            int tiles = (rows + mr - 1) / mr;
            int fewest = QgemmRowBlocks.Fewest(rows, mr);
            Assert.True(fewest * (Qgemm.RowBlock / mr) >= tiles, $"{rows} rows: {fewest} blocks cannot hold {tiles} tiles");
            for (int count = fewest; count <= fewest + 5; count++)
            {
                var blocks = new QgemmRowBlocks(rows, mr, count);
                Assert.Equal(Math.Min(count, tiles), blocks.Count);
                int next = 0, least = int.MaxValue, most = 0;
                for (int b = 0; b < blocks.Count; b++)
                {
                    var (row, height) = blocks.Block(b);
                    Assert.Equal(next, row);
                    Assert.InRange(height, 1, Qgemm.RowBlock);
                    Assert.True(row % mr == 0 && (height % mr == 0 || row + height == rows), $"{rows} rows, block {b}: {row} + {height} is not whole tiles");
                    int blockTiles = (height + mr - 1) / mr;
                    least = Math.Min(least, blockTiles);
                    most = Math.Max(most, blockTiles);
                    next = row + height;
                }

                Assert.Equal(rows, next);
                Assert.True(most - least <= 1, $"{rows} rows in {blocks.Count} blocks: {least} to {most} tiles");
            }
        }
    }

    [Fact]
    public void TwoThreadsOfTwelveBlocksGetHalfTheRowsEach()
    {
        // BERT's and GPT's 8 x 128 token rows on 2 threads with the 6-row VNNI and AVX2 tiles: each thread's six blocks.
        var blocks = new QgemmRowBlocks(1024, 6, 12);
        int first = Enumerable.Range(0, 6).Sum(b => blocks.Block(b).Count);
        Assert.Equal(510, first);
        Assert.Equal(514, 1024 - first);
    }
}
