using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A stage backend that computes y = 2x and writes it where the placement says (as the frame reader does), counting
/// its runs; it can be set to fail as a dead worker does, to ignore the placement, or to take time over each run, one
/// run at a time as a worker's model thread does.
/// </summary>
internal sealed class FakeStage(string name) : IStageBackend
{
    private readonly SemaphoreSlim _modelThread = new(1, 1);
    private int _runs;

    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Rows of each run, in order of arrival.</summary>
    public List<int> Rows { get; } = [];

    public bool Down { get; set; }

    /// <summary>Up, but every run fails as if the worker died under it.</summary>
    public bool FailsRuns { get; set; }

    public bool IgnoresPlacement { get; set; }

    /// <summary>How long each run computes; runs queue behind each other for it. Zero: answered at once.</summary>
    public TimeSpan TimePerRun { get; set; }

    /// <summary>
    /// When set, every run waits for it before it starts: batches stay in flight until the test completes it, however
    /// long a loaded machine keeps the test's thread from sending the next (a run timed in milliseconds may be over by then).
    /// </summary>
    public Task? Hold { get; set; }

    /// <summary>The time each timed run took from leaving the queue to its answer (longer than <see cref="TimePerRun"/> on a busy machine).</summary>
    public List<TimeSpan> ServiceTimes { get; } = [];

    public IReadOnlyList<string> Inputs => ["x"];

    public IReadOnlyList<WorkerClient> Workers => [];

    public bool IsUp => !Down;

    public bool RunsApart => true;

    public bool Chains(IStageBackend next) => false;

    /// <summary>What the stage answers when asked for its measured costs (none unless a test sets them).</summary>
    public BatchCost[] Costs { get; set; } = [];

    public Task<BatchCost[]> MeasuredCostsAsync(CancellationToken cancellation) => Task.FromResult(Costs);

    public async Task<IReadOnlyDictionary<string, Tensor>> RunSegmentAsync(IReadOnlyList<IStageBackend> segment, IReadOnlyDictionary<string, Tensor> values, IReadOnlyList<string> outputs, OutputPlacement? place, CancellationToken cancellation)
    {
        if (Hold is { } hold) await hold.WaitAsync(cancellation);
        if (TimePerRun == TimeSpan.Zero) return await Run(values, place);
        await _modelThread.WaitAsync(cancellation);
        try
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            await Task.Delay(TimePerRun, cancellation);
            var answer = await Run(values, place);
            lock (ServiceTimes) ServiceTimes.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start));
            return answer;
        }
        finally
        {
            _modelThread.Release();
        }
    }

    private Task<IReadOnlyDictionary<string, Tensor>> Run(IReadOnlyDictionary<string, Tensor> values, OutputPlacement? place)
    {
        Interlocked.Increment(ref _runs);
        var x = values["x"];
        lock (Rows) Rows.Add(x.Shape[0]);
        if (Down || FailsRuns) return Task.FromException<IReadOnlyDictionary<string, Tensor>>(new ClusterException(ClusterErrorCode.WorkerDown, $"worker {name} is down"));
        var y = (IgnoresPlacement ? null : place?.Invoke("y", DataType.Float32, x.Shape)) ?? Tensor.Allocate(DataType.Float32, x.Shape);
        var source = x.ToArray<float>();
        var target = y.Span<float>();
        for (int i = 0; i < source.Length; i++) target[i] = 2 * source[i];
        return Task.FromResult<IReadOnlyDictionary<string, Tensor>>(new Dictionary<string, Tensor> { ["y"] = y });
    }

    public override string ToString() => name;
}
