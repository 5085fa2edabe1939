using Parquet;
using Parquet.Schema;
using Tessera.Batch;
using Tessera.Batch.Datasets;
using Tessera.Onnx.Graph;

namespace Tessera.Tests.Batch;

/// <summary>
/// The page headers of a column chunk are checked before Parquet.Net reads it (ParquetPageCheck), with the footer's
/// bounded Thrift walk: files Parquet.Net writes, with every codec it writes, pass and read back; a header that declares
/// more than its chunk holds is refused in one line before any buffer is sized by it.
/// </summary>
public sealed class ParquetPageCheckTests
{
    private static readonly ValueInfo[] s_inputs =
    [
        new() { Name = "x", Shape = [Dimension.Named("batch"), Dimension.Known(4)] },
        new() { Name = "id", Shape = [Dimension.Named("batch")] },
        new() { Name = "flag", Shape = [Dimension.Named("batch")] },
    ];

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Snappy)]
    [InlineData(CompressionMethod.Gzip)]
    [InlineData(CompressionMethod.Zstd)]
    [InlineData(CompressionMethod.LZ4)]
    [InlineData(CompressionMethod.Brotli)]
    public async Task FilesParquetNetWritesWithEachCodecPassAndReadBack(CompressionMethod codec)
    {
        // Repeated values (so some chunks are dictionary-encoded), a list column, a scalar and booleans, two row groups.
        const int records = 3000;
        float[] x = [.. Enumerable.Range(0, records * 4).Select(i => (float)(i % 7) + (i / 1000))];
        long[] id = [.. Enumerable.Range(0, records).Select(i => 1000L + i)];
        bool[] flag = [.. Enumerable.Range(0, records).Select(i => i % 3 == 0)];
        byte[] file = await WriteAsync(codec, x, id, flag, rowGroup: 2000);

        await using var dataset = await ParquetDataset.OpenAsync(new MemoryStream(file), "codec.parquet", "codec", s_inputs, default);
        var slice = await dataset.ReadAsync(0, records, default);
        Assert.Equal(x, slice.Tensors["x"].ToArray<float>());
        Assert.Equal(id, slice.Tensors["id"].ToArray<long>());
        Assert.Equal(flag, slice.Tensors["flag"].ToArray<bool>());
    }

    [Fact]
    public async Task APageDeclaringMoreUncompressedBytesThanItsValuesTakeIsRefused()
    {
        var (file, header) = await SingleLongPageAsync();
        Patch(file, header + UncompressedAt, 8191);
        await RefusedAsync(file, $"the page at byte {header} declares 8191 bytes uncompressed, more than the 7064 that 500 INT64 values take");
    }

    [Fact]
    public async Task APageRunningPastItsColumnChunkIsRefused()
    {
        var (file, header) = await SingleLongPageAsync();
        Patch(file, header + CompressedAt, 8191);
        await RefusedAsync(file, $"the page at byte {header} declares 8191 bytes, more than the 4000 left in its column chunk");
    }

    [Fact]
    public async Task APageDeclaringMoreValuesThanItsColumnChunkIsRefused()
    {
        var (file, header) = await SingleLongPageAsync();
        Patch(file, header + ValuesAt, 501);
        await RefusedAsync(file, $"the page at byte {header} declares 501 values, its column chunk 500 in all (0 in the pages before)");
    }

    [Fact]
    public async Task AFooterOfListsNestedTensOfThousandsDeepIsRefusedWithoutRecursingThatDeep()
    {
        // An unknown field of FileMetaData (id 10) holding a list of one list of one list...: the walk is capped in
        // depth for lists as for structs, where it once recursed once per byte (a stack overflow, not a refusal).
        byte[] footer = [0xA9, .. Enumerable.Repeat((byte)0x19, 60_000), 0x00, 0x00];
        byte[] file = [.. "PAR1"u8, .. footer, .. BitConverter.GetBytes(footer.Length), .. "PAR1"u8];
        ValueInfo[] inputs = [new() { Name = "x", Shape = [Dimension.Named("batch")] }];
        var refusal = await Assert.ThrowsAsync<BatchException>(() => ParquetDataset.OpenAsync(new MemoryStream(file), "deep.parquet", "deep", inputs, default));
        Assert.Equal("cannot read 'deep.parquet' as Parquet: its footer (the Thrift metadata) is malformed", refusal.Message);
    }

    // Parquet.Net's header of a plain page of 500 longs: type, uncompressed size, compressed size (two-byte varints),
    // then the data page header's value count (a two-byte varint).
    private const int UncompressedAt = 3;
    private const int CompressedAt = 6;
    private const int ValuesAt = 10;

    /// <summary>A file of one column "x" of 500 longs in one uncompressed page, and where that page's header starts.</summary>
    private static async Task<(byte[] File, int Header)> SingleLongPageAsync()
    {
        var schema = new ParquetSchema(new DataField<long>("x"));
        var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = CompressionMethod.None }))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(schema.DataFields[0], Enumerable.Range(0, 500).Select(i => (long)i * 1_000_003).ToArray());
        }

        byte[] file = stream.ToArray();
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(file));
        int header = (int)reader.OpenRowGroupReader(0).GetMetadata(schema.DataFields[0])!.MetaData!.DataPageOffset;
        // The layout the patches rely on: a DATA_PAGE (0) of 4000 bytes both ways, with 500 values.
        Assert.Equal(new byte[] { 0x15, 0x00, 0x15, 0xC0, 0x3E, 0x15, 0xC0, 0x3E, 0x2C, 0x15, 0xE8, 0x07 }, file[header..(header + 12)]);
        return (file, header);
    }

    /// <summary>Overwrites the two-byte zigzag varint at <paramref name="at"/> with <paramref name="value"/> (below 8192).</summary>
    private static void Patch(byte[] file, int at, int value)
    {
        int zigzag = value << 1;
        file[at] = (byte)(0x80 | (zigzag & 0x7F));
        file[at + 1] = (byte)(zigzag >> 7);
    }

    private static async Task RefusedAsync(byte[] file, string message)
    {
        ValueInfo[] inputs = [new() { Name = "x", Shape = [Dimension.Named("batch")] }];
        var refusal = await Assert.ThrowsAsync<BatchException>(() => ParquetDataset.OpenAsync(new MemoryStream(file), "patched.parquet", "patched", inputs, default));
        Assert.Equal($"column 'x' in row group 0: {message}", refusal.Message);
    }

    private static async Task<byte[]> WriteAsync(CompressionMethod codec, float[] x, long[] id, bool[] flag, int rowGroup)
    {
        var element = new DataField<float>(ListField.ElementName);
        var schema = new ParquetSchema(new ListField("x", element), new DataField<long>("id"), new DataField<bool>("flag"));
        var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = codec }))
        {
            var xField = (DataField)((ListField)schema.Fields[0]).Item;
            for (int first = 0; first < id.Length; first += rowGroup)
            {
                int count = Math.Min(rowGroup, id.Length - first);
                using var group = writer.CreateRowGroup();
                var part = x.AsMemory(first * 4, count * 4);
                await group.WriteAllPartsAsync<float>(xField, part, Enumerable.Repeat(xField.MaxDefinitionLevel, part.Length).ToArray(), Enumerable.Range(0, part.Length).Select(i => i % 4 == 0 ? 0 : 1).ToArray(), default);
                await group.WriteAsync<long>(schema.DataFields[1], id.AsMemory(first, count));
                await group.WriteAsync<bool>(schema.DataFields[2], flag.AsMemory(first, count));
            }
        }

        return stream.ToArray();
    }
}
