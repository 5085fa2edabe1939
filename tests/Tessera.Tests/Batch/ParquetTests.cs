using Parquet;
using Parquet.Schema;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>
/// Parquet datasets (fixed-size list columns become the records' tensors) and Parquet outputs, written and read with
/// Parquet.Net's own column API, and a dataset written by arrow-rs (<see cref="ArrowParquetWriter"/>).
/// </summary>
public sealed class ParquetTests : IDisposable
{
    private readonly BatchFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task AParquetDatasetGivesTheSameBitsAsNpyAndAParquetOutputHoldsThem()
    {
        string model = _fx.Model(16, 32);
        var x = ClusterFixture.Random([1000, 16], 21);
        var expected = BatchFixture.Reference(model, x);
        string data = _fx.PathOf("records.parquet");
        await WriteListColumnAsync(data, "x", x, rowGroup: 300); // row groups that shards cross

        string folder = _fx.PathOf("npy-out");
        var toNpy = CliProcess.Run("batch", "--model", model, "--data", data, "--out", folder, "--workers", "2", "--shard-rows", "128");
        Assert.True(toNpy.ExitCode == 0, toNpy.Stderr);
        BatchFixture.AssertSameBits(expected, NpyFormat.ReadFile(Path.Combine(folder, "y.npy")));

        string file = _fx.PathOf("scores.parquet");
        var toParquet = CliProcess.Run("batch", "--model", model, "--data", data, "--out", file, "--shard-rows", "128");
        Assert.True(toParquet.ExitCode == 0, toParquet.Stderr);
        Assert.False(Directory.Exists(file + ".batch"), "the work folder goes once the Parquet file is complete");
        await using var reader = await ParquetReader.CreateAsync(file);
        Assert.Contains("\"records\":1000", reader.CustomMetadata["tessera.manifest"]);
        var element = (DataField)((ListField)reader.Schema.Fields.Single(f => f.Name == "y")).Item;
        var values = new List<float>();
        long rows = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            rows += group.RowCount;
            var chunk = new float[group.GetMetadata(element)!.MetaData!.NumValues];
            var repetitions = new int[chunk.Length];
            await group.ReadRawAsync<float>(element, chunk, new int[chunk.Length], repetitions, default);
            Assert.Equal(Enumerable.Range(0, chunk.Length).Select(i => i % 16 == 0 ? 0 : 1), repetitions);
            values.AddRange(chunk);
        }

        Assert.Equal(1000, rows);
        Assert.Equal(expected.ToArray<float>(), values.ToArray());

        var again = CliProcess.Run("batch", "--model", model, "--data", data, "--out", file);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already holds this job's finished output", again.Stderr);
    }

    [Fact]
    public async Task AParquetFileFromAnotherWriterGivesTheSameBitsAsTheNpyDataset()
    {
        // arrow-rs writes a fixed-size list as the three-level LIST with Snappy pages, unlike Parquet.Net's writer above.
        string model = _fx.Model(16, 32);
        var x = ClusterFixture.Random([1000, 16], 29);
        string data = _fx.PathOf("arrow.parquet");
        ArrowParquetWriter.Write(data, rowGroupRows: 300, ("x", x));
        await using (var written = await ParquetReader.CreateAsync(data))
        {
            Assert.Equal(4, written.RowGroupCount);
            Assert.IsType<ListField>(written.Schema.Fields.Single());
            Assert.Contains("parquet-rs", written.Metadata!.CreatedBy, StringComparison.Ordinal);
        }

        string fromNpy = _fx.PathOf("from-npy"), fromParquet = _fx.PathOf("from-parquet");
        var npy = CliProcess.Run("batch", "--model", model, "--data", _fx.NpyData("npy", x), "--out", fromNpy, "--shard-rows", "128");
        Assert.True(npy.ExitCode == 0, npy.Stderr);
        var parquet = CliProcess.Run("batch", "--model", model, "--data", data, "--out", fromParquet, "--workers", "2", "--shard-rows", "128");
        Assert.True(parquet.ExitCode == 0, parquet.Stderr);
        var expected = NpyFormat.ReadFile(Path.Combine(fromNpy, "y.npy"));
        BatchFixture.AssertSameBits(BatchFixture.Reference(model, x), expected);
        BatchFixture.AssertSameBits(expected, NpyFormat.ReadFile(Path.Combine(fromParquet, "y.npy")));
    }

    [Fact]
    public async Task AColumnOfNumbersGivesEachRecordOneValue()
    {
        // Found by the parquet fuzz target's seeds: a required column was read with an empty level buffer instead of
        // none (a null array converts to an empty Memory), which Parquet.Net refused, so such a dataset never opened.
        string model = _fx.Model(1, 8);
        var x = ClusterFixture.Random([300, 1], 23);
        string data = _fx.PathOf("scalars.parquet");
        var schema = new ParquetSchema(new DataField<float>("x"));
        await using (var stream = File.Create(data))
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<float>(schema.DataFields[0], x.ToArray<float>());
        }

        string folder = _fx.PathOf("scalars-out");
        var result = CliProcess.Run("batch", "--model", model, "--data", data, "--out", folder);
        Assert.True(result.ExitCode == 0, result.Stderr);
        BatchFixture.AssertSameBits(BatchFixture.Reference(model, x), NpyFormat.ReadFile(Path.Combine(folder, "y.npy")));
    }

    [Fact]
    public async Task ARowGroupOfMoreValuesThanTheLimitIsRefusedBeforeItIsDecoded()
    {
        // Row groups are decoded whole into arrays their metadata sizes: the limit (2^28 values in batch) bounds that.
        var schema = new ParquetSchema(new DataField<long>("x"));
        var file = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, file))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(schema.DataFields[0], new long[5000]);
        }

        var input = new Tessera.Onnx.Graph.ValueInfo { Name = "x", Shape = [Tessera.Onnx.Graph.Dimension.Named("batch")] };
        var refusal = await Assert.ThrowsAsync<Tessera.Batch.BatchException>(() =>
            Tessera.Batch.Datasets.ParquetDataset.OpenAsync(new MemoryStream(file.ToArray()), "big.parquet", "big", [input], default, maxRowGroupValues: 4096));
        Assert.Contains("has a row group of 5000 values, more than the 4096 batch decodes at once", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListsOfDifferentLengthsAreRefused()
    {
        string model = _fx.Model(4, 8);
        string data = _fx.PathOf("ragged.parquet");
        var schema = new ParquetSchema(new ListField("x", new DataField<float>(ListField.ElementName)));
        await using (var stream = File.Create(data))
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            using var group = writer.CreateRowGroup();
            var element = (DataField)((ListField)schema.Fields[0]).Item;
            await group.WriteAllPartsAsync<float>(element, new float[] { 1, 2, 3, 4, 5, 6, 7 }, Enumerable.Repeat(element.MaxDefinitionLevel, 7).ToArray(), new[] { 0, 1, 1, 1, 0, 1, 1 }, default);
        }

        var result = CliProcess.Run("batch", "--model", model, "--data", data, "--out", _fx.PathOf("out"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("tessera: column 'x' holds lists of different lengths", result.Stderr);
    }

    /// <summary>A Parquet file with one list column holding each record of <paramref name="values"/> (axis 0 = records).</summary>
    private static async Task WriteListColumnAsync(string path, string name, Tensor values, int rowGroup)
    {
        var element = new DataField<float>(ListField.ElementName);
        var schema = new ParquetSchema(new ListField(name, element));
        int records = values.Shape[0], width = values.Length / records;
        float[] all = values.ToArray<float>();
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        var field = (DataField)((ListField)schema.Fields[0]).Item;
        for (int first = 0; first < records; first += rowGroup)
        {
            int count = Math.Min(rowGroup, records - first);
            using var group = writer.CreateRowGroup();
            var part = all.AsMemory(first * width, count * width);
            await group.WriteAllPartsAsync<float>(field, part, Enumerable.Repeat(field.MaxDefinitionLevel, part.Length).ToArray(), Enumerable.Range(0, part.Length).Select(i => i % width == 0 ? 0 : 1).ToArray(), default);
        }
    }
}
