using Tessera.Batch;
using Tessera.Batch.Results;

namespace Tessera.Tests.Batch;

/// <summary>The journal survives a kill at any point: a line cut short is dropped, shards recorded stay recorded.</summary>
public sealed class BatchJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-journal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ATornLastLineIsDroppedAndTheRunsCounted()
    {
        string path = Path.Combine(_dir, BatchJournal.FileName);
        var key = new JobKey(new string('a', 64), "x.npy 100 bytes", 100, 10);
        using (var journal = BatchJournal.Create(path, key))
        {
            journal.Append(new ShardEntry(3, 10, new Dictionary<string, WorkerWork> { ["w"] = new(10, 0.5) }));
            journal.Append(new ShardEntry(0, 10, new Dictionary<string, WorkerWork> { ["v"] = new(6, 0.1), ["w"] = new(4, 0.2) }));
        }

        File.AppendAllText(path, "{\"shard\":7,\"reco"); // the coordinator killed mid-line
        Assert.Equal(key, BatchJournal.ReadKey(path));
        using (var resumed = BatchJournal.Resume(path))
        {
            Assert.Equal([0, 3], resumed.Done.Keys.Order());
            Assert.Equal(2, resumed.Runs);
            Assert.Equal(new WorkerWork(14, 0.7), WorkerWork.Total(resumed.Done.Values.Select(e => e.Workers))["w"], new WorkComparer());
            resumed.Append(new ShardEntry(7, 10, new Dictionary<string, WorkerWork>()));
        }

        using var third = BatchJournal.Resume(path);
        Assert.Equal([0, 3, 7], third.Done.Keys.Order());
        Assert.Equal(3, third.Runs);

        File.WriteAllText(path, "{\"journal\":\"tessera batch 1\",\"job\":{}}\n{not json}\n{}\n");
        Assert.Contains("is damaged at line", Assert.Throws<BatchException>(() => BatchJournal.Resume(path)).Message);
        File.WriteAllText(path, "hello\n");
        Assert.Null(BatchJournal.ReadKey(path));
    }

    private sealed class WorkComparer : IEqualityComparer<WorkerWork>
    {
        public bool Equals(WorkerWork? a, WorkerWork? b) => a!.Records == b!.Records && Math.Abs(a.Seconds - b.Seconds) < 1e-9;

        public int GetHashCode(WorkerWork w) => w.Records.GetHashCode();
    }
}
