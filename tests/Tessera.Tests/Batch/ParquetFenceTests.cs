using Parquet;
using Parquet.Schema;
using Tessera.Batch;
using Tessera.Batch.Datasets;
using Tessera.Onnx.Graph;

namespace Tessera.Tests.Batch;

/// <summary>
/// While Parquet.Net decodes a column chunk it is held to the chunk's bytes (ParquetFence): a page whose levels stop
/// short of the values its header declares sends Parquet.Net on past the chunk for more, which the fence refuses.
/// </summary>
public sealed class ParquetFenceTests
{
    private const int Records = 500;

    // Parquet.Net's definition levels of 500 present values of an optional column: their length (4 bytes), then one
    // RLE run (header 500 << 1 as a varint, then the level, 1).
    private static readonly byte[] s_levels = [0x03, 0x00, 0x00, 0x00, 0xE8, 0x07, 0x01];

    [Fact]
    public async Task APageWhoseLevelsStopShortSendsNoReadPastItsColumnChunk()
    {
        byte[] file = await OptionalLongsAsync();
        int at = file.AsSpan().IndexOf(s_levels);
        Assert.True(at > 0 && file.AsSpan(at + 1).IndexOf(s_levels) < 0, "the layout the patch relies on: one run of 500 levels");
        file[at + 4] = 0xF4; // the run now holds 250 levels (500 << 1 was E8 07; 250 << 1 is F4 03)
        file[at + 5] = 0x03;

        ValueInfo[] inputs = [new() { Name = "x", Shape = [Dimension.Named("batch")] }];
        var refusal = await Assert.ThrowsAsync<BatchException>(async () =>
        {
            await using var dataset = await ParquetDataset.OpenAsync(new MemoryStream(file), "short.parquet", "short", inputs, default);
            await dataset.ReadAsync(0, Records, default);
        });
        Assert.Equal("column 'x' in row group 0: its pages decode to fewer values than they declare (Parquet.Net read on past the column chunk)", refusal.Message);
    }

    [Fact]
    public async Task TheUnpatchedFileReadsBack()
    {
        byte[] file = await OptionalLongsAsync();
        ValueInfo[] inputs = [new() { Name = "x", Shape = [Dimension.Named("batch")] }];
        await using var dataset = await ParquetDataset.OpenAsync(new MemoryStream(file), "whole.parquet", "whole", inputs, default);
        var slice = await dataset.ReadAsync(0, Records, default);
        Assert.Equal(Values(), slice.Tensors["x"].ToArray<long>());
    }

    /// <summary>One optional INT64 column "x" of 500 values, all present, in one uncompressed page.</summary>
    private static async Task<byte[]> OptionalLongsAsync()
    {
        var x = new DataField<long?>("x");
        var schema = new ParquetSchema(x);
        var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = CompressionMethod.None }))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(x, Values().Select(v => (long?)v).ToArray());
        }

        return stream.ToArray();
    }

    private static long[] Values() => [.. Enumerable.Range(0, Records).Select(i => (long)i * 1_000_003)];
}
