using Parquet;
using Parquet.Schema;
using Tessera.Batch;
using Tessera.Batch.Datasets;
using Tessera.Onnx.Graph;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// A Parquet dataset of `tessera batch` (<see cref="ParquetDataset"/> over Parquet.Net): opened for a model with the
/// inputs "x" (records of any length, a list column) and "id" (one value per record), then read as the batch
/// coordinator reads its shards, 16 records at a time: the first, middle and last slices. Row groups are decoded whole
/// into arrays of the size their metadata declares, so the dataset runs with a limit of <see cref="MaxRowGroupValues"/>
/// values per column and row group (batch's own is 2^28), and that limit is what a file may make it allocate.
/// </summary>
internal sealed class ParquetDatasetTarget : FuzzTarget
{
    public const long MaxRowGroupValues = 4096;

    private const int SliceRecords = 16;

    private const int Slices = 3;

    private static readonly ValueInfo[] s_inputs =
    [
        new() { Name = "x", Shape = [Dimension.Named("batch"), Dimension.Unknown] },
        new() { Name = "id", Shape = [Dimension.Named("batch")] },
    ];

    public override string Name => "parquet";

    public override string Description => "Parquet datasets of tessera batch (ParquetDataset over Parquet.Net: footer, schema, row groups, pages, list columns)";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens("PAR1", "x", "id", "list", "element");

    public override void Parse(ReadOnlySpan<byte> input)
    {
        var stream = new MemoryStream(input.ToArray(), writable: false);
        var dataset = ParquetDataset.OpenAsync(stream, "fuzz.parquet", "fuzz", s_inputs, CancellationToken.None, MaxRowGroupValues).GetAwaiter().GetResult();
        try
        {
            long last = Math.Max(0, dataset.Records - SliceRecords);
            foreach (long first in new[] { 0, last / 2, last }.Distinct())
            {
                dataset.ReadAsync(first, (int)Math.Min(SliceRecords, dataset.Records - first), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            dataset.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public override bool IsRefusal(Exception e) => e is BatchException;

    /// <summary>
    /// Each slice may decode a row group per record (a group of one row), each group's two columns up to the limit in
    /// values, with their definition and repetition levels (16 bytes a value at most), and fill tensors as wide; and
    /// Parquet.Net may allocate what the page check lets it for each column chunk it decodes
    /// (<see cref="ParquetPageCheck.DecodeBytes"/>).
    /// </summary>
    public override long AllocationBound(int inputLength) =>
        BaseAllocationBytes + (Slices * SliceRecords * 2 * ((MaxRowGroupValues * (16 + 8)) + ParquetPageCheck.DecodeBytes(MaxRowGroupValues))) + (AllocationPerInputByte * inputLength);

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        float[] x = [.. Enumerable.Range(0, 40).Select(i => i * 0.25f)];
        long[] id = [.. Enumerable.Range(0, 10).Select(i => 1000L + i)];
        yield return Write(CompressionMethod.None, 4, [x], [id]);
        yield return Write(CompressionMethod.Snappy, 4, [x[..20], x[20..]], [id[..5], id[5..]]);
        yield return Write(CompressionMethod.Gzip, 8, [x], [id[..5]]);
        yield return Write(CompressionMethod.Zstd, 1, [x[..3], x[3..6], x[6..9]], [id[..3], id[3..6], id[6..9]]);
        yield return Write<int, double>(CompressionMethod.None, 2, [[1, 2, 3, 4]], [[0.5, 1.5]]);
        yield return Write<bool, byte>(CompressionMethod.Snappy, 3, [[true, false, true, true, true, false]], [[7, 8]]);
        yield return Write<short, ulong>(CompressionMethod.None, 1, [[-1, 2]], [[ulong.MaxValue, 0]]);
    }

    private static byte[] Write(CompressionMethod compression, int width, float[][] x, long[][] id) => Write<float, long>(compression, width, x, id);

    /// <summary>A file written by Parquet.Net: a list column "x" of <paramref name="width"/> values per record and a column "id", a row group per array.</summary>
    private static byte[] Write<TX, TId>(CompressionMethod compression, int width, TX[][] x, TId[][] id)
        where TX : struct
        where TId : struct
    {
        var stream = new MemoryStream();
        WriteAsync(stream, compression, width, x, id).GetAwaiter().GetResult();
        return stream.ToArray();
    }

    private static async Task WriteAsync<TX, TId>(MemoryStream stream, CompressionMethod compression, int width, TX[][] x, TId[][] id)
        where TX : struct
        where TId : struct
    {
        var schema = new ParquetSchema(new ListField("x", new DataField<TX>(ListField.ElementName)), new DataField<TId>("id"));
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = compression });
        var xField = (DataField)((ListField)schema.Fields[0]).Item;
        for (int g = 0; g < x.Length; g++)
        {
            using var group = writer.CreateRowGroup();
            int[] definitions = [.. Enumerable.Repeat(xField.MaxDefinitionLevel, x[g].Length)];
            int[] repetitions = [.. Enumerable.Range(0, x[g].Length).Select(i => i % width == 0 ? 0 : 1)];
            await group.WriteAllPartsAsync<TX>(xField, x[g], definitions, repetitions, default);
            await group.WriteAsync<TId>(schema.DataFields[1], id[g]);
        }
    }
}
