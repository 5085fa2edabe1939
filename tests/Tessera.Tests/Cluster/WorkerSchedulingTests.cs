using Tessera.Cluster.Coordinator;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A worker process runs every thread under SCHED_BATCH (a thread that wakes does not preempt a sibling worker's run),
/// the threads it starts for a model it loads too, unless told <c>--scheduling normal</c>.
/// </summary>
public sealed class WorkerSchedulingTests : IDisposable
{
    private const int SchedulingNormal = 0; // SCHED_OTHER
    private const int SchedulingBatch = 3;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData(null, SchedulingBatch)]
    [InlineData("normal", SchedulingNormal)]
    public async Task EveryThreadOfAWorkerRunsUnderThePolicyItIsGiven(string? scheduling, int expected)
    {
        using var worker = scheduling is null ? _fx.StartWorker() : _fx.StartWorker(null, "--scheduling", scheduling);
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(16, 24, 1), "whole.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        var route = new Route([new RouteStep(coordinator.Workers[0], model.Hash, ["x"])]);
        await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([2, 16], 2) }, ["y"]);

        var policies = Policies(worker.Pid);
        Assert.Contains(policies, p => p.Name.StartsWith("tessera model", StringComparison.Ordinal));
        Assert.All(policies, p => Assert.True(p.Policy == expected, $"thread '{p.Name}' has policy {p.Policy}, not {expected}"));
    }

    /// <summary>Each thread's name and scheduling policy (/proc/PID/task/TID/stat, field 41).</summary>
    private static List<(string Name, int Policy)> Policies(int pid)
    {
        var found = new List<(string, int)>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                found.Add((File.ReadAllText(Path.Combine(task, "comm")).Trim(), int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // A thread that ended meanwhile.
            }
        }

        return found;
    }
}
