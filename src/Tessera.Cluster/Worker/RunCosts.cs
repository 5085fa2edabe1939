using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// What a loaded model's runs cost at each batch size (the leading dimension of its first input that has one): CPU
/// seconds of the model's thread per run, the mean of the first runs and then a moving average, so it follows a worker
/// that slows down. Coordinators read it (MODEL_COSTS) to choose a pipeline's micro-batch sizes. Thread CPU time, not
/// wall time: it leaves out the time other processes on a shared machine take the core. The first run at a size is
/// left out (it sizes buffers and caches kernel geometry). Once a size's average is formed a run is timed only when
/// <see cref="SampleEvery"/> runs of the model have gone by since that size was last timed: reading a thread's CPU
/// clock is a system call, two per run, which on a virtual machine was 1-2% of a pipeline stage's CPU (perf,
/// bench-cluster). The count is over every size, so a size the coordinator sends rarely (to measure it again) is timed
/// each time: counted per model instead, its runs were timed one in 16, and an 8-row cost measured 7x too high in a
/// busy minute held a 3-stage pipeline on 2-row pieces for the whole run.
/// </summary>
internal sealed class RunCosts
{
    private const double Smoothing = 0.2;
    private const int Averaged = 5;
    private const int MaxSizes = 256;
    private const int SampleEvery = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, (int Runs, double Seconds)> _byRows = [];
    private readonly HashSet<int> _warm = [];
    private readonly Dictionary<int, long> _lastTimed = [];
    private long _runs;

    /// <summary>The rows a run over <paramref name="inputs"/> (in the model's input order) is counted under; 0 when no input has a dimension.</summary>
    public static int RowsOf(IEnumerable<Tensor> inputs) => inputs.FirstOrDefault(t => t.Rank > 0)?.Shape[0] ?? 0;

    /// <summary>Whether the next run of this many rows should be timed and <see cref="Record"/>ed.</summary>
    public bool WantsTiming(int rows)
    {
        if (rows <= 0) return false;
        lock (_lock)
        {
            long run = ++_runs;
            if (_warm.Contains(rows) && _byRows.TryGetValue(rows, out var cost) && cost.Runs >= Averaged && run - _lastTimed.GetValueOrDefault(rows) < SampleEvery) return false;
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

            _byRows.TryGetValue(rows, out var cost);
            double mean = cost.Runs < Averaged ? cost.Seconds + ((seconds - cost.Seconds) / (cost.Runs + 1)) : cost.Seconds + (Smoothing * (seconds - cost.Seconds));
            _byRows[rows] = (cost.Runs == int.MaxValue ? cost.Runs : cost.Runs + 1, mean);
        }
    }

    public BatchCost[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _byRows.OrderBy(kv => kv.Key).Select(kv => new BatchCost(kv.Key, kv.Value.Runs, kv.Value.Seconds))];
        }
    }
}
