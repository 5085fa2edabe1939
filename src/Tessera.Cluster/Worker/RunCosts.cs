using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// What a loaded model's runs cost at each batch size (the leading dimension of its first input that has one): CPU
/// seconds of the model's thread per run, the median of the latest <see cref="Window"/> timed runs, so it follows a
/// worker that slows down. Coordinators read it (MODEL_COSTS) to choose a pipeline's micro-batch sizes. Thread CPU time,
/// not wall time: it leaves out the time other processes on a shared machine take the core. The median rather than an
/// average: a run that another process takes the core from part-way pays for refilling its caches afterwards, so on a
/// busy machine single runs measure several times their cost (an 8-row GPT stage run at 24 ms against 3.3), and an
/// average kept such a run in the cost for many runs after it, while a size sent rarely (a pipeline's whole batch,
/// sent again one batch in 64 to measure it) had few runs to outweigh it. The first run at a size is left out (it
/// sizes buffers and caches kernel geometry). Once a size has <see cref="TimedEachTime"/> timed runs a run is timed only
/// when <see cref="SampleEvery"/> runs of the model have gone by since that size was last timed: reading a thread's
/// CPU clock is a system call, two per run, which on a virtual machine was 1-2% of a pipeline stage's CPU (perf,
/// bench-cluster). The count is over every size, so a size the coordinator sends rarely is timed each time.
/// </summary>
internal sealed class RunCosts
{
    private const int Window = 7;
    private const int TimedEachTime = 5;
    private const int MaxSizes = 256;
    private const int SampleEvery = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, Timings> _byRows = [];
    private readonly HashSet<int> _warm = [];
    private readonly Dictionary<int, long> _lastTimed = [];
    private long _runs;

    /// <summary>
    /// The rows a run over <paramref name="inputs"/> is counted under: the leading dimension of the first of
    /// <paramref name="names"/> (the model's inputs, in order) that has one; 0 when none has. A plain loop: it is
    /// asked twice for every stage run.
    /// </summary>
    public static int RowsOf(string[] names, IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (string name in names)
        {
            if (inputs.TryGetValue(name, out var tensor) && tensor.Rank > 0) return tensor.Shape[0];
        }

        return 0;
    }

    /// <summary>Whether the next run of this many rows should be timed and <see cref="Record"/>ed.</summary>
    public bool WantsTiming(int rows)
    {
        if (rows <= 0) return false;
        lock (_lock)
        {
            long run = ++_runs;
            if (_warm.Contains(rows) && _byRows.TryGetValue(rows, out var timings) && timings.Runs >= TimedEachTime && run - _lastTimed.GetValueOrDefault(rows) < SampleEvery) return false;
            if (_lastTimed.Count < MaxSizes || _lastTimed.ContainsKey(rows)) _lastTimed[rows] = run;
            return true;
        }
    }

    public void Record(int rows, double seconds)
    {
        if (rows <= 0 || !(seconds > 0)) return;
        lock (_lock)
        {
            if (!_warm.Contains(rows))
            {
                if (_warm.Count < MaxSizes) _warm.Add(rows);
                return;
            }

            if (!_byRows.TryGetValue(rows, out var timings)) _byRows[rows] = timings = new Timings();
            timings.Add(seconds);
        }
    }

    /// <summary>Whether runs of this many rows were timed often enough to trust and their median is below <paramref name="seconds"/>.</summary>
    public bool KnownUnder(int rows, double seconds)
    {
        lock (_lock)
        {
            return _byRows.TryGetValue(rows, out var timings) && timings.Runs >= TimedEachTime && timings.Median() < seconds;
        }
    }

    public BatchCost[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _byRows.OrderBy(kv => kv.Key).Select(kv => new BatchCost(kv.Key, kv.Value.Runs, kv.Value.Median()))];
        }
    }

    /// <summary>One size's timed runs: how many, and the latest <see cref="Window"/> of them.</summary>
    private sealed class Timings
    {
        private readonly double[] _latest = new double[Window];
        private int _next;

        public int Runs { get; private set; }

        public void Add(double seconds)
        {
            _latest[_next] = seconds;
            _next = (_next + 1) % Window;
            if (Runs < int.MaxValue) Runs++;
        }

        public double Median()
        {
            Span<double> kept = stackalloc double[Window];
            int count = Math.Min(Runs, Window);
            _latest.AsSpan(0, count).CopyTo(kept);
            kept = kept[..count];
            kept.Sort();
            return count % 2 == 1 ? kept[count / 2] : (kept[(count / 2) - 1] + kept[count / 2]) / 2;
        }
    }
}
