using System.Diagnostics;
using System.Text.Json;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>A temp folder with a token, models and datasets for `tessera batch` tests, and readers of what a job leaves.</summary>
internal sealed class BatchFixture : IDisposable
{
    public ClusterFixture Cluster { get; } = new();

    public string Directory => Cluster.Directory;

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>y = tanh(relu(x @ w1 + b1) @ w2) + x, x of <paramref name="k"/> values per record.</summary>
    public string Model(int k, int n, int seed = 5) => Cluster.Save(ClusterFixture.Whole(k, n, seed), $"m{k}x{n}.onnx");

    /// <summary>A dataset folder holding x.npy.</summary>
    public string NpyData(string folder, Tensor x)
    {
        string dir = System.IO.Directory.CreateDirectory(PathOf(folder)).FullName;
        NpyFormat.WriteFile(Path.Combine(dir, "x.npy"), x);
        return dir;
    }

    /// <summary>One session over all the records at once: the single-process reference.</summary>
    public static Tensor Reference(string model, Tensor x) => new InferenceSession(ModelReader.Load(model)).Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];

    /// <summary>The shard indices the journal records, in its order (a shard twice would be a repeat).</summary>
    public static int[] JournalShards(string journal) =>
        [.. File.ReadAllLines(journal).Skip(1).Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("shard", out _)).Select(e => e.GetProperty("shard").GetInt32())];

    public static JsonElement Manifest(string output) => JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "manifest.json"))).RootElement;

    public string ClusterFile(params WorkerProcess[] workers)
    {
        string path = PathOf("cluster.json");
        var nodes = workers.Select((w, i) => new { name = $"w{i}", address = w.Address, memoryBytes = 1L << 30 });
        File.WriteAllText(path, JsonSerializer.Serialize(new { nodes }));
        return path;
    }

    /// <summary>Polls until the journal at <paramref name="journal"/> records at least <paramref name="shards"/> shards.</summary>
    public static void WaitForShards(TesseraProcess job, string journal, int shards, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (job.HasExited) throw new InvalidOperationException($"the job ended before its journal recorded {shards} shards:\n{job.Log}");
            try
            {
                if (File.Exists(journal) && JournalShards(journal).Length >= shards) return;
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // a line being written
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException($"the journal did not record {shards} shards within {timeout}");
    }

    public static void AssertSameBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.DataType, actual.DataType);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.True(expected.Bytes.SequenceEqual(actual.Bytes), "outputs differ from the single-process run");
    }

    public void Dispose() => Cluster.Dispose();
}
