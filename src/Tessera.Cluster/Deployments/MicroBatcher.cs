using System.Collections.Concurrent;
using System.Diagnostics;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Pipeline;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// How one pipeline placement cuts its share of a batch into micro-batches: by the stages' measured cost per run at
/// each batch size (asked of their workers at most once a second while batches come) against the pipeline's bubble
/// (<see cref="MicroBatchSchedule"/>). Until both ends of the sizes it chooses among are measured — the share whole,
/// and the smallest pieces — it sends a few batches cut that way so that they are; meanwhile, and for stages that
/// measure nothing, it cuts <see cref="DeploymentOptions.DefaultMicroBatchesPerStage"/> per stage. A size counts as
/// measured after a few timed runs, and now and then the end not chosen is sent again. Sizes between the measured ones
/// are interpolated, and the sizes chosen are measured in turn. Only sizes this placement sent count (a
/// worker counts a run under its first input's leading dimension, which a model batched on another axis does not vary).
/// The choice counts the batches in flight on the placement, which fill the bubble a batch alone would leave. The
/// curves, and the cut chosen from them for each batch size, concurrency and batches in flight, are kept until the
/// costs are asked again or a new size is sent: rebuilding the curves and weighing every count of pieces for each
/// batch was 3% of a pipeline coordinator's CPU (perf, bench-cluster GPT 3-stage pipeline: 18 of 598 samples).
/// </summary>
internal sealed class MicroBatcher(IReadOnlyList<IStageBackend> stages, Func<int> concurrency, Func<int> batchesInFlight)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);

    // Timed runs a size needs before its cost counts: one run's cost is noise (a size measured once at 8 rows, 40% over
    // its true cost on a loaded machine, had every later batch cut into 1-row pieces, never sent whole again).
    private const int TrustedRuns = 3;

    // Runs a size is sent for before its measurement is waited for (a worker leaves a size's first run out).
    private const int Explorations = TrustedRuns + 1;

    // Every this many chosen cuts, one batch goes as the end of the range the choice does not use, so that a cost that
    // has drifted (a worker slowed, or measured while the machine was busy) is measured again.
    private const int RemeasureEvery = 64;

    private readonly ConcurrentDictionary<int, int> _sent = new();
    private readonly ConcurrentDictionary<int[], long> _cuts = new(SameSizes.Instance); // named ("4+4") only when asked
    private volatile BatchCost[][]? _costs;
    private volatile Choices? _choices;
    private long _refreshedAt;
    private long _chosen;
    private int _refreshing;

    /// <summary>The sizes of the micro-batches <paramref name="rows"/> rows are cut into, largest first.</summary>
    public int[] Sizes(int rows, DeploymentOptions options)
    {
        int count = stages.Count;
        if (options.MicroBatchesPerStage is { } perStage) return MicroBatchSchedule.Even(rows, Math.Min(rows, perStage * count));
        RefreshWhenStale();
        int most = Math.Min(rows, DeploymentOptions.MaxMicroBatchesPerStage * count);
        int[] finest = MicroBatchSchedule.Even(rows, most);
        var choices = CurrentChoices();
        bool waiting = false;
        foreach (int[] extreme in new int[][] { [rows], finest })
        {
            if (Known(choices?.Curves, extreme[^1])) continue;
            if (_sent.GetValueOrDefault(extreme[^1]) < Explorations) return Sent(extreme);
            waiting = true;
        }

        if (waiting) return Sent(MicroBatchSchedule.Even(rows, Math.Min(rows, DeploymentOptions.DefaultMicroBatchesPerStage * count)));
        int[] chosen = choices!.Choose(rows, concurrency(), options.MicroBatchOverhead.TotalSeconds, most, batchesInFlight());
        if (Interlocked.Increment(ref _chosen) % RemeasureEvery == 0 && finest.Length > 1) return Sent(chosen.Length == 1 ? finest : [rows]);
        return Sent(chosen);
    }

    /// <summary>How often each cut was sent ("4+4": two pieces of 4 rows), so a benchmark can tell what the choice did.</summary>
    public IReadOnlyDictionary<string, long> Cuts => _cuts.ToDictionary(kv => string.Join('+', kv.Key), kv => kv.Value, StringComparer.Ordinal);

    private int[] Sent(int[] sizes)
    {
        foreach (int size in sizes) _sent.AddOrUpdate(size, 1, (_, n) => n + 1);
        _cuts.AddOrUpdate(sizes, 1, (_, n) => n + 1);
        return sizes;
    }

    private static bool Known(BatchCostCurve[]? curves, int rows) => curves is not null && curves.All(c => c.RunsAt(rows) >= TrustedRuns);

    /// <summary>Each stage's curve over the sizes this placement sent and the cuts chosen from them, or null before the first answer.</summary>
    private Choices? CurrentChoices()
    {
        if (_costs is not { } costs) return null;
        int sizesSent = _sent.Count; // sizes are only ever added: a new one changes the count
        var choices = _choices;
        if (choices is null || !ReferenceEquals(choices.Costs, costs) || choices.SizesSent != sizesSent)
        {
            _choices = choices = new Choices(costs, sizesSent, [.. costs.Select(c => new BatchCostCurve(c.Where(p => _sent.ContainsKey(p.Rows))))]);
        }

        return choices;
    }

    private void RefreshWhenStale()
    {
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _refreshedAt)) < RefreshEvery || Interlocked.Exchange(ref _refreshing, 1) == 1) return;
        _ = RefreshAsync();
    }

    private async Task RefreshAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(RefreshEvery * 5);
            _costs = await Task.WhenAll(stages.Select(s => s.MeasuredCostsAsync(timeout.Token))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClusterException or OperationCanceledException or TimeoutException)
        {
            // A worker down or slow to answer: the runs will tell the deployment; the last costs stay.
        }
        finally
        {
            Volatile.Write(ref _refreshedAt, Stopwatch.GetTimestamp());
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>
    /// The curves built from one answer of the stages' costs (<see cref="Costs"/>) over the sizes sent when they were
    /// built, and the cuts chosen from them so far (shared arrays: read, never written).
    /// </summary>
    private sealed class Choices(BatchCost[][] costs, int sizesSent, BatchCostCurve[] curves)
    {
        private readonly ConcurrentDictionary<(int Rows, int Concurrency, double Overhead, int Most, int InFlight), int[]> _chosen = new();

        public BatchCost[][] Costs { get; } = costs;

        public int SizesSent { get; } = sizesSent;

        public BatchCostCurve[] Curves { get; } = curves;

        public int[] Choose(int rows, int concurrency, double overhead, int most, int inFlight) =>
            _chosen.GetOrAdd((rows, concurrency, overhead, most, inFlight), static (k, curves) => MicroBatchSchedule.Choose(k.Rows, curves, k.Concurrency, k.Overhead, k.Most, k.InFlight), Curves);
    }

    /// <summary>Cuts compared by their sizes (the arrays a cut is sent as are shared, never written).</summary>
    private sealed class SameSizes : IEqualityComparer<int[]>
    {
        public static readonly SameSizes Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] sizes)
        {
            var hash = new HashCode();
            foreach (int size in sizes) hash.Add(size);
            return hash.ToHashCode();
        }
    }
}
