using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
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
/// The choice counts the batches in flight on the placement, which fill the bubble a batch alone would leave; with as
/// many in flight as stages the pipeline is full and a batch goes whole at once, with no costs asked, explored or
/// remeasured (<see cref="MicroBatchSchedule.IsFull"/>). The
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

    // A cut chosen while other batches are in flight on the placement rests on the whole batch's cost per row against
    // its pieces' (the others fill the bubble, so only that difference counts), and the whole batch is timed only when
    // one is sent: one measured while the machine was busy (a 3-stage GPT stage's 8 rows at 12.2 ms against 4.5 alone)
    // kept bench-cluster's pipeline in 2-row pieces for a whole round (217 of 233 batches). Such a cut sends the batch
    // whole this often instead, which leaves no bubble while others are in flight.
    private const int RemeasureWholeEvery = 8;

    // A cost that moved by less than this since the choices were built keeps them: each answer (one a second) brings
    // medians a few percent off the last ones (a new timed run or two per size), and the curves and every cut were
    // built again for each. It is half the margin a cut must win by over the whole batch (10%, MicroBatchSchedule),
    // which already treats moves of that size as noise.
    private const double CostChange = 0.05;

    private readonly ConcurrentDictionary<int, StrongBox<int>> _sent = new(); // batches sent per piece size
    private readonly ConcurrentDictionary<int[], StrongBox<long>> _cuts = new(SameSizes.Instance); // named ("4+4") only when asked
    private volatile BatchCost[][]? _costs;
    private volatile Choices? _choices;
    private volatile Ends? _ends;
    private long _refreshedAt;
    private long _chosen;
    private int _sizesSent; // _sent's count, kept apart: ConcurrentDictionary.Count takes every lock
    private int _refreshing;

    /// <summary>The sizes of the micro-batches <paramref name="rows"/> rows are cut into, largest first.</summary>
    public int[] Sizes(int rows, DeploymentOptions options)
    {
        int count = stages.Count;
        if (options.MicroBatchesPerStage is { } perStage) return MicroBatchSchedule.Even(rows, Math.Min(rows, perStage * count));
        var ends = _ends;
        if (ends is null || ends.Whole[0] != rows) _ends = ends = new Ends(rows, count);
        int inFlight = batchesInFlight();
        // A full pipeline sends batches whole whatever the costs (MicroBatchSchedule.IsFull): it neither explores nor
        // remeasures the pieces, nor asks the costs. Before this, it sent the default cut (2 per stage) while waiting
        // the second or so until the finest cut's costs came back: 46 of 512 batches of a bench-cluster run of the
        // 3-stage GPT pipeline at 4 in flight, besides the cuts chosen on a contended curve.
        if (MicroBatchSchedule.IsFull(inFlight, count)) return Sent(ends.Whole);
        RefreshWhenStale();
        var choices = CurrentChoices();
        bool waiting = false;
        foreach (int[] extreme in (ReadOnlySpan<int[]>)[ends.Whole, ends.Finest])
        {
            if (choices is not null && choices.Trusted(extreme[^1])) continue;
            if (SentOf(extreme[^1]) < Explorations) return Sent(extreme);
            waiting = true;
        }

        if (waiting) return Sent(ends.Default);
        int[] chosen = choices!.Choose(rows, concurrency(), options.MicroBatchOverhead.TotalSeconds, ends.Finest.Length, inFlight);
        long choice = Interlocked.Increment(ref _chosen);
        if (ends.Finest.Length > 1 && Remeasures(choice, chosen.Length, inFlight))
        {
            return Sent(chosen.Length == 1 ? ends.Finest : ends.Whole);
        }

        return Sent(chosen);
    }

    /// <summary>
    /// Whether the <paramref name="choice"/>th choice (made with the pipeline not full), of <paramref name="pieces"/>
    /// pieces with <paramref name="inFlight"/> batches on the placement, goes as the other end instead, to measure it again.
    /// </summary>
    internal static bool Remeasures(long choice, int pieces, int inFlight) =>
        choice % RemeasureEvery == 0 || (pieces > 1 && inFlight > 1 && choice % RemeasureWholeEvery == 0);

    /// <summary>How often each cut was sent ("4+4": two pieces of 4 rows), so a benchmark can tell what the choice did.</summary>
    public IReadOnlyDictionary<string, long> Cuts => _cuts.ToDictionary(kv => string.Join('+', kv.Key), kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal);

    private int[] Sent(int[] sizes)
    {
        foreach (int size in sizes)
        {
            if (Interlocked.Increment(ref _sent.GetOrAdd(size, static _ => new StrongBox<int>()).Value) == 1) Interlocked.Increment(ref _sizesSent);
        }

        Interlocked.Increment(ref _cuts.GetOrAdd(sizes, static _ => new StrongBox<long>()).Value);
        return sizes;
    }

    private int SentOf(int size) => _sent.TryGetValue(size, out var sent) ? Volatile.Read(ref sent.Value) : 0;

    /// <summary>Each stage's curve over the sizes this placement sent and the cuts chosen from them, or null before the first answer.</summary>
    private Choices? CurrentChoices()
    {
        if (_costs is not { } costs) return null;
        int sizesSent = Volatile.Read(ref _sizesSent); // sizes are only ever added: a new one changes the count
        var choices = _choices;
        if (choices is null || !ReferenceEquals(choices.Costs, costs) || choices.SizesSent != sizesSent)
        {
            var curves = new BatchCostCurve[costs.Length];
            for (int s = 0; s < curves.Length; s++) curves[s] = new BatchCostCurve(Array.FindAll(costs[s], p => SentOf(p.Rows) > 0));
            _choices = choices = new Choices(costs, sizesSent, curves);
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
            var costs = await Task.WhenAll(stages.Select(s => s.MeasuredCostsAsync(timeout.Token))).ConfigureAwait(false);
            if (_costs is not { } kept || Moved(kept, costs)) _costs = costs;
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
    /// Whether the stages' costs moved enough from <paramref name="kept"/> (those the choices were built from) to choose
    /// again: a size measured or trusted anew, or one whose cost per run moved by more than <see cref="CostChange"/>.
    /// Comparing with the kept costs, not the previous answer, lets a slow drift add up until it counts.
    /// </summary>
    internal static bool Moved(BatchCost[][] kept, BatchCost[][] costs)
    {
        if (kept.Length != costs.Length) return true;
        for (int s = 0; s < costs.Length; s++)
        {
            if (kept[s].Length != costs[s].Length) return true;
            for (int i = 0; i < costs[s].Length; i++)
            {
                var (was, now) = (kept[s][i], costs[s][i]);
                if (was.Rows != now.Rows || (was.Runs >= TrustedRuns) != (now.Runs >= TrustedRuns)) return true;
                if (Math.Abs(now.SecondsPerRun - was.SecondsPerRun) > CostChange * was.SecondsPerRun) return true;
            }
        }

        return false;
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

        /// <summary>Whether every stage's cost of <paramref name="rows"/> rows was measured over enough runs to count.</summary>
        public bool Trusted(int rows)
        {
            foreach (var curve in Curves)
            {
                if (curve.RunsAt(rows) < TrustedRuns) return false;
            }

            return true;
        }

        public int[] Choose(int rows, int concurrency, double overhead, int most, int inFlight) =>
            _chosen.GetOrAdd((rows, concurrency, overhead, most, inFlight), static (k, curves) => MicroBatchSchedule.Choose(k.Rows, curves, k.Concurrency, k.Overhead, k.Most, k.InFlight), Curves);
    }

    /// <summary>
    /// The cuts a batch of <see cref="Whole"/>[0] rows is sent as before its costs are known: whole, in the finest pieces
    /// (the most the choice weighs), and the default count per stage; kept while batches keep that size, so that a batch
    /// neither cuts them again nor allocates them (shared arrays: read, never written).
    /// </summary>
    private sealed class Ends(int rows, int stages)
    {
        public int[] Whole { get; } = [rows];

        public int[] Finest { get; } = MicroBatchSchedule.Even(rows, Math.Min(rows, DeploymentOptions.MaxMicroBatchesPerStage * stages));

        public int[] Default { get; } = MicroBatchSchedule.Even(rows, Math.Min(rows, DeploymentOptions.DefaultMicroBatchesPerStage * stages));
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
