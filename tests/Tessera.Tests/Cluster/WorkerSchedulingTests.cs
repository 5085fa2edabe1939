using Tessera.Cluster.Coordinator;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A worker process runs every thread under SCHED_BATCH (a thread that wakes does not preempt a sibling worker's run),
/// the threads it starts for a model it loads too, unless told <c>--scheduling normal</c>; and, where the kernel
/// takes a fair task's slice from sched_setattr (Linux 6.12 and later), in 20 ms slices, or those of <c>--slice-ms</c>.
/// </summary>
public sealed class WorkerSchedulingTests : IDisposable
{
    private const int SchedulingNormal = 0; // SCHED_OTHER
    private const int SchedulingBatch = 3;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData(null, null, SchedulingBatch, 20_000_000L)]
    [InlineData(null, "5", SchedulingBatch, 5_000_000L)]
    [InlineData("normal", null, SchedulingNormal, 0L)]
    public async Task EveryThreadOfAWorkerRunsUnderThePolicyItIsGiven(string? scheduling, string? sliceMs, int expected, long expectedSlice)
    {
        string[] extra = [.. scheduling is null ? [] : new[] { "--scheduling", scheduling }, .. sliceMs is null ? [] : new[] { "--slice-ms", sliceMs }];
        using var worker = _fx.StartWorker(null, extra);
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(16, 24, 1), "whole.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        var route = new Route([new RouteStep(coordinator.Workers[0], model.Hash, ["x"])]);
        await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([2, 16], 2) }, ["y"]);

        var policies = Policies(worker.Pid);
        Assert.Contains(policies, p => p.Name.StartsWith("tessera model", StringComparison.Ordinal));
        Assert.All(policies, p => Assert.True(p.Policy == expected, $"thread '{p.Name}' has policy {p.Policy}, not {expected}"));
        long kernels = KernelSliceOfNewThread();
        // The policy is checked everywhere; the slice only where the kernel takes one and /proc shows it (se.slice).
        if (!KernelTakesSlices() || kernels == 0) return;
        Assert.All(policies, p =>
        {
            long want = expectedSlice == 0 ? kernels : expectedSlice;
            Assert.True(p.Slice == want, $"thread '{p.Name}' has a slice of {p.Slice} ns, not {want}");
        });
    }

    /// <summary>
    /// Whether the kernel takes a fair thread's slice from sched_setattr: Linux 6.12 and later (told by its version, not
    /// by the code under test, which would skip the check when it is broken).
    /// </summary>
    private static bool KernelTakesSlices() => OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(6, 12);

    /// <summary>The slice the kernel gives a thread nobody asked a slice for.</summary>
    private static long KernelSliceOfNewThread()
    {
        long slice = 0;
        var probe = new Thread(() => slice = SliceOf("/proc/thread-self"));
        probe.Start();
        probe.Join();
        return slice;
    }

    /// <summary>A thread's slice in nanoseconds (TASK/sched, se.slice); 0 where /proc does not show it.</summary>
    private static long SliceOf(string task)
    {
        string path = Path.Combine(task, "sched");
        if (!File.Exists(path)) return 0;
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("se.slice", StringComparison.Ordinal)) return long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }

        return 0;
    }

    /// <summary>Each thread's name, scheduling policy (/proc/PID/task/TID/stat, field 41) and slice (.../sched, se.slice).</summary>
    private static List<(string Name, int Policy, long Slice)> Policies(int pid)
    {
        var found = new List<(string, int, long)>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (ProcStat.Fields(Path.Combine(task, "stat")) is not { } fields) continue; // a thread that ended
                found.Add((File.ReadAllText(Path.Combine(task, "comm")).Trim(), int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture), SliceOf(task)));
            }
            catch (IOException)
            {
                // A thread that ended meanwhile.
            }
        }

        return found;
    }
}
