using System.Diagnostics;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// One replica of a deployment: the chain of stages a share of the batch runs through, each on its stage backend.
/// Runs walk the chain segment by segment (consecutive stages one backend chains; see <see cref="IStageBackend"/>),
/// passing values on by name. A placement measures itself: seconds per row (a moving average over its runs), which
/// the deployment splits batches by. A run is charged the time it kept the placement busy, from its start or the
/// previous answer, whichever came later, not its whole wait: runs in flight queue on the workers, and the wait of
/// one queued behind others says nothing about speed (charged it, a replica with a few batches queued measured
/// itself about twice as slow as it computes, and by whatever noise its queue held against another's).
/// </summary>
public sealed class Placement
{
    // Weight of the newest run in the moving average of time per row: follows a placement that slows down, smooth
    // enough to ignore one slow run.
    private const double Smoothing = 0.2;

    private readonly Lock _lock = new();
    private readonly IStageBackend[][] _segments;
    private readonly string[][] _segmentOutputs;
    private readonly MicroBatcher _microBatcher;
    private int _inFlight;
    private int _batches;
    private long _answered;
    private long _rows;
    private double _secondsPerRow;
    private long _lastAnswer;

    // Concurrency as counted from the stages' worker infos: asked for every batch a pipeline cuts, while a new info
    // comes only with a PONG (a few a second), so it is counted again only then, not in a new dictionary per batch.
    private volatile CountedConcurrency? _concurrency;

    /// <param name="weight">The share of a batch it was placed for (a plan's batch weight; 1 when replicas are alike).</param>
    public Placement(IReadOnlyList<IStageBackend> stages, IReadOnlyList<string> outputs, double weight = 1)
    {
        if (stages.Count == 0) throw new ArgumentException("a placement needs at least one stage", nameof(stages));
        Stages = stages;
        Outputs = outputs;
        Weight = weight;
        Workers = [.. stages.SelectMany(s => s.Workers).Distinct()];
        ConcurrentStages = stages.All(s => s.RunsApart) ? stages.Count : 1;
        var segments = new List<IStageBackend[]>();
        for (int s = 0; s < stages.Count;)
        {
            int end = s + 1;
            while (end < stages.Count && stages[end - 1].Chains(stages[end])) end++;
            segments.Add([.. stages.Skip(s).Take(end - s)]);
            s = end;
        }

        _segments = [.. segments];
        _microBatcher = new MicroBatcher(stages, () => Concurrency, () => Math.Max(1, BatchesInFlight));
        // A segment returns what the stages after it read (the values that skip stages travel with the request) and,
        // the last one, the outputs.
        _segmentOutputs = new string[_segments.Length][];
        for (int g = 0; g < _segments.Length; g++)
        {
            _segmentOutputs[g] = g == _segments.Length - 1
                ? [.. outputs]
                : [.. _segments.Skip(g + 1).SelectMany(x => x).SelectMany(x => x.Inputs).Concat(outputs).Distinct(StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<IStageBackend> Stages { get; }

    public IReadOnlyList<string> Outputs { get; }

    public double Weight { get; }

    /// <summary>Every worker the placement runs on, none when it runs in this process.</summary>
    public IReadOnlyList<WorkerClient> Workers { get; }

    public bool IsUp
    {
        get
        {
            // A loop, not LINQ: asked for every batch (issue 19).
            foreach (var stage in Stages) if (!stage.IsUp) return false;
            return true;
        }
    }

    /// <summary>
    /// Stages that work at once on consecutive micro-batches: a remote chain's stages run on different workers, so a
    /// micro-batch can be in each; stages in this process run one after another.
    /// </summary>
    public int ConcurrentStages { get; }

    /// <summary>
    /// Of <see cref="ConcurrentStages"/>, how many can compute at once: stages whose workers share a host share its
    /// processors (a worker that does not tell its host counts as a host of its own).
    /// </summary>
    public int Concurrency
    {
        get
        {
            if (ConcurrentStages == 1) return 1;
            if (_concurrency is { } counted && Unchanged(counted.Infos)) return counted.Value;
            var infos = new WorkerInfo?[Stages.Count];
            for (int s = 0; s < infos.Length; s++) infos[s] = InfoOf(Stages[s]);
            var hosts = new Dictionary<Guid, (int Stages, int Processors)>();
            int alone = 0;
            foreach (var info in infos)
            {
                if (info is null || info.HostId == Guid.Empty)
                {
                    alone++;
                    continue;
                }

                var (stages, processors) = hosts.GetValueOrDefault(info.HostId);
                hosts[info.HostId] = (stages + 1, Math.Max(processors, info.Processors));
            }

            int value = alone + hosts.Values.Sum(h => h.Processors > 0 ? Math.Min(h.Stages, h.Processors) : h.Stages);
            _concurrency = new CountedConcurrency(infos, value);
            return value;
        }
    }

    private static WorkerInfo? InfoOf(IStageBackend stage) => stage.Workers.Count > 0 ? stage.Workers[0].Info : null;

    /// <summary>Whether every stage's worker still has the info <paramref name="infos"/> holds for it (a PONG brings a new one).</summary>
    private bool Unchanged(WorkerInfo?[] infos)
    {
        for (int s = 0; s < infos.Length; s++)
        {
            if (!ReferenceEquals(infos[s], InfoOf(Stages[s]))) return false;
        }

        return true;
    }

    /// <summary>The micro-batches a share of <paramref name="rows"/> rows is cut into (one piece when the stages run one after another).</summary>
    internal int[] PieceSizes(int rows, DeploymentOptions options) => ConcurrentStages > 1 && rows > 1 ? _microBatcher.Sizes(rows, options) : [rows];

    /// <summary>
    /// Batches (shares of them) on the placement at once, counted from before one is cut until all its pieces are
    /// answered: the micro-batch choice weighs the pipeline's bubble against them, since they fill it.
    /// </summary>
    internal int BatchesInFlight => Volatile.Read(ref _batches);

    /// <summary>A share of a batch is about to be cut and run on the placement (see <see cref="BatchesInFlight"/>).</summary>
    internal void BatchBegun() => Interlocked.Increment(ref _batches);

    /// <summary>Every piece of a share begun with <see cref="BatchBegun"/> was answered or failed.</summary>
    internal void BatchEnded() => Interlocked.Decrement(ref _batches);

    /// <summary>How often each micro-batch cut was chosen ("4+4": two pieces of 4 rows; empty unless cut by measured costs).</summary>
    public IReadOnlyDictionary<string, long> MicroBatchCuts => _microBatcher.Cuts;

    /// <summary>Work in flight: requests this coordinator has on the placement's workers (shared by every placement on them), or in this process its own.</summary>
    public int Busy
    {
        get
        {
            if (Workers.Count == 0) return Volatile.Read(ref _inFlight);
            int outstanding = 0;
            foreach (var worker in Workers) outstanding += worker.Outstanding;
            return outstanding;
        }
    }

    /// <summary>Requests (shares or micro-batches) the placement answered.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Rows of those requests (along the batch axes; requests sent whole count none).</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>The matrix-product rate its slowest worker measured at start (flop/s); 0 in this process or when one measured nothing.</summary>
    public double ReportedRate => Workers.Count == 0 ? 0 : Workers.Min(w => (double)w.Info.MatrixFlopsPerSecond);

    /// <summary>Measured seconds per row (moving average); 0 until a run with rows has ended.</summary>
    public double SecondsPerRow
    {
        get
        {
            lock (_lock) return _secondsPerRow;
        }
    }

    /// <summary>Runs the chain on <paramref name="inputs"/>; <paramref name="rows"/> (0: none) are what its speed is measured over.</summary>
    internal async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, int rows, OutputPlacement? place, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _inFlight);
        try
        {
            IReadOnlyDictionary<string, Tensor> values = inputs;
            for (int g = 0; g < _segments.Length; g++)
            {
                var segment = _segments[g];
                bool last = g == _segments.Length - 1;
                if (!segment[0].RunsApart && PendingRequests.Answering)
                {
                    // The segment before answered on a worker connection's receive loop, which must not compute this
                    // process's stages: the thread pool does.
                    await Task.Yield();
                }

                var produced = await segment[0].RunSegmentAsync(segment, values, _segmentOutputs[g], last ? place : null, cancellation).ConfigureAwait(false);
                if (last)
                {
                    values = produced;
                    break;
                }

                var merged = new Dictionary<string, Tensor>(values, StringComparer.Ordinal);
                foreach (var (name, tensor) in produced) merged[name] = tensor;
                values = merged;
            }

            Interlocked.Increment(ref _answered);
            Interlocked.Add(ref _rows, rows);
            double busy = Answer(start);
            if (rows > 0) Record(rows, busy);
            return values;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Seconds the run begun at <paramref name="start"/> kept the placement busy: since it began, or since the previous answer when it waited behind that.</summary>
    private double Answer(long start)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            long from = Math.Max(start, _lastAnswer);
            _lastAnswer = now;
            return Stopwatch.GetElapsedTime(from, now).TotalSeconds;
        }
    }

    /// <summary>A run of <paramref name="rows"/> rows took <paramref name="seconds"/>.</summary>
    internal void Record(int rows, double seconds)
    {
        double perRow = seconds / rows;
        lock (_lock)
        {
            _secondsPerRow = _secondsPerRow == 0 ? perRow : _secondsPerRow + Smoothing * (perRow - _secondsPerRow);
        }
    }

    public override string ToString() => string.Join(" -> ", Stages.Select(s => s.ToString()));

    private sealed record CountedConcurrency(WorkerInfo?[] Infos, int Value);
}
