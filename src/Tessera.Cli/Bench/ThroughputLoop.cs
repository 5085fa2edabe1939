using System.Diagnostics;

namespace Tessera.Cli.Bench;

/// <summary>
/// Closed-loop throughput: <c>inFlight</c> callers each start a new run as soon as their last one finished, for a
/// fixed time after a warm-up, so a pipeline or a set of replicas is kept as busy as a loaded server keeps it.
/// </summary>
internal static class ThroughputLoop
{
    /// <returns>Runs completed per second, and the median time of one run in ms.</returns>
    /// <param name="started">Called once the warm-up is over, as the timed window starts.</param>
    public static async Task<(double RunsPerSecond, double MedianMs, int Runs)> MeasureAsync(Func<Task> run, int inFlight, int warmupRuns, TimeSpan duration, Action? started = null)
    {
        for (int i = 0; i < warmupRuns; i++)
        {
            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => run())).ConfigureAwait(false);
        }

        started?.Invoke();
        var times = new List<double>[inFlight];
        var clock = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, inFlight).Select(async c =>
        {
            times[c] = [];
            // At least one run each, so a slow model still gives a number.
            do
            {
                long start = Stopwatch.GetTimestamp();
                await run().ConfigureAwait(false);
                times[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            while (clock.Elapsed < duration);
        }).ToArray();
        await Task.WhenAll(callers).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        var all = times.SelectMany(t => t).ToArray();
        return (all.Length / seconds, LatencyStats.From(all).MedianMs, all.Length);
    }

    /// <summary>The same for a synchronous run on this thread (one in flight).</summary>
    public static (double RunsPerSecond, double MedianMs, int Runs) Measure(Action run, int warmupRuns, TimeSpan duration, Action? started = null)
    {
        for (int i = 0; i < warmupRuns; i++) run();
        started?.Invoke();
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        do
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        while (clock.Elapsed < duration);
        return (times.Count / clock.Elapsed.TotalSeconds, LatencyStats.From([.. times]).MedianMs, times.Count);
    }
}
