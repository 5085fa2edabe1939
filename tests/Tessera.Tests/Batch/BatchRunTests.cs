using Tessera.Tensors.Formats;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>`tessera batch` through the real CLI on real worker processes: same bits as one session, every record once, through a dead worker and a killed coordinator.</summary>
public sealed class BatchRunTests : IDisposable
{
    private readonly BatchFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void ThreeLocalWorkersAndOneProcessGiveTheSingleSessionsBits()
    {
        string model = _fx.Model(16, 32);
        var x = ClusterFixture.Random([3000, 16], 11);
        string data = _fx.NpyData("data", x);
        var expected = BatchFixture.Reference(model, x);

        string spread = _fx.PathOf("spread");
        var run = CliProcess.Run("batch", "--model", model, "--data", data, "--out", spread, "--workers", "3", "--shard-rows", "100", "--batch-size", "40");
        Assert.True(run.ExitCode == 0, run.Stderr);
        BatchFixture.AssertSameBits(expected, NpyFormat.ReadFile(Path.Combine(spread, "y.npy")));
        var manifest = BatchFixture.Manifest(spread);
        Assert.Equal(3000, manifest.GetProperty("records").GetInt64());
        Assert.Equal(30, manifest.GetProperty("shards").GetInt32());
        var workers = manifest.GetProperty("workers").EnumerateObject().ToArray();
        Assert.Equal(3000, workers.Sum(w => w.Value.GetProperty("records").GetInt64()));
        Assert.True(manifest.GetProperty("ended").GetDateTimeOffset() >= manifest.GetProperty("started").GetDateTimeOffset());
        Assert.Equal(Enumerable.Range(0, 30), BatchFixture.JournalShards(Path.Combine(spread, "journal.jsonl")).Order());
        Assert.False(Directory.Exists(Path.Combine(spread, "shards")), "the shards are removed once the outputs are assembled");

        string here = _fx.PathOf("here");
        var single = CliProcess.Run("batch", "--model", model, "--data", data, "--out", here, "--threads", "2");
        Assert.True(single.ExitCode == 0, single.Stderr);
        BatchFixture.AssertSameBits(expected, NpyFormat.ReadFile(Path.Combine(here, "y.npy")));
        Assert.Equal(BatchFixture.Manifest(spread).GetProperty("model_sha256").GetString(), BatchFixture.Manifest(here).GetProperty("model_sha256").GetString());
    }

    [Fact]
    public void AWorkerKilledMidJobHasItsWorkRunElsewhereWithNothingMissingOrRepeated()
    {
        string model = _fx.Model(256, 1024);
        var x = ClusterFixture.Random([3000, 256], 12);
        string data = _fx.NpyData("data", x);
        string output = _fx.PathOf("out");
        using var a = _fx.Cluster.StartWorker();
        using var b = _fx.Cluster.StartWorker();
        using var victim = _fx.Cluster.StartWorker();
        string cluster = _fx.ClusterFile(a, b, victim);

        using var job = new TesseraProcess(["batch", "--model", model, "--data", data, "--out", output, "--cluster", cluster, "--token-file", _fx.Cluster.TokenFile, "--shard-rows", "50", "--batch-size", "25"]);
        string journal = Path.Combine(output, "journal.jsonl");
        BatchFixture.WaitForShards(job, journal, 2, TimeSpan.FromSeconds(60));
        // Frozen first, so that its lanes' batches are on the wire when it dies: killed between two batches, the
        // coordinator would see the closed connection before sending and place the next batch elsewhere unannounced.
        victim.Signal("STOP");
        BatchFixture.WaitForShards(job, journal, 5, TimeSpan.FromSeconds(60));
        Assert.True(BatchFixture.JournalShards(journal).Length < 60, "the job ended while a worker was frozen: it held no shard");
        victim.Dispose(); // SIGKILL
        Assert.True(job.WaitForExit(TimeSpan.FromSeconds(90)), "the job did not finish");
        Assert.True(job.ExitCode == 0, job.Log);
        Assert.Contains("running it on another placement", job.Log); // the killed worker's batch ran elsewhere

        BatchFixture.AssertSameBits(BatchFixture.Reference(model, x), NpyFormat.ReadFile(Path.Combine(output, "y.npy")));
        var shards = BatchFixture.JournalShards(journal);
        Assert.Equal(Enumerable.Range(0, 60), shards.Order());
        var manifest = BatchFixture.Manifest(output);
        Assert.Equal(3000, manifest.GetProperty("workers").EnumerateObject().Sum(w => w.Value.GetProperty("records").GetInt64()));
    }

    [Fact]
    public void AKilledCoordinatorLeavesNoOutputAndResumeRunsOnlyTheMissingShards()
    {
        string model = _fx.Model(256, 1024);
        var x = ClusterFixture.Random([3000, 256], 13);
        string data = _fx.NpyData("data", x);
        string output = _fx.PathOf("out");
        string journal = Path.Combine(output, "journal.jsonl");
        string[] args = ["batch", "--model", model, "--data", data, "--out", output, "--workers", "2", "--shard-rows", "50", "--batch-size", "25"];

        using (var first = new TesseraProcess(args))
        {
            BatchFixture.WaitForShards(first, journal, 3, TimeSpan.FromSeconds(60));
            first.KillAlone(); // SIGKILL: its local workers stop when their stdin closes
        }

        var before = BatchFixture.JournalShards(journal);
        Assert.InRange(before.Length, 3, 59);
        Assert.False(File.Exists(Path.Combine(output, "manifest.json")), "a killed job must not look complete");
        Assert.False(File.Exists(Path.Combine(output, "y.npy")), "a killed job must not leave an output that looks whole");

        var again = CliProcess.Run(args);
        Assert.NotEqual(0, again.ExitCode);
        Assert.StartsWith("tessera: ", again.Stderr);
        Assert.Contains("add --resume", again.Stderr);

        var resumed = CliProcess.Run([.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var shards = BatchFixture.JournalShards(journal);
        Assert.Equal(Enumerable.Range(0, 60), shards.Order());
        Assert.Equal(before, shards[..before.Length]); // the shards written before were not run again
        BatchFixture.AssertSameBits(BatchFixture.Reference(model, x), NpyFormat.ReadFile(Path.Combine(output, "y.npy")));
        var manifest = BatchFixture.Manifest(output);
        Assert.Equal(2, manifest.GetProperty("runs").GetInt32());
        Assert.Equal(3000, manifest.GetProperty("workers").EnumerateObject().Sum(w => w.Value.GetProperty("records").GetInt64()));

        var done = CliProcess.Run([.. args, "--resume"]);
        Assert.True(done.ExitCode == 0, done.Stderr);
        Assert.Contains("already holds this job's output, complete", done.Stdout);
    }
}
