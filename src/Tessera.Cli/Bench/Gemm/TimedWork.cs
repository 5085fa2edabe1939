using System.Diagnostics;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// Work timed in windows of whole units (GEMM calls, or steps of a roof's chains): each window records wall time and
/// this process's CPU time, so a reader can tell a slow kernel from a core taken by another process.
/// </summary>
internal sealed class TimedWork(double operationsPerUnit, Action<long> run)
{
    private readonly List<TimedWindow> _windows = [];

    public double OperationsPerUnit { get; } = operationsPerUnit;

    /// <summary>Units per window, set by <see cref="Calibrate"/>.</summary>
    public long Units { get; private set; } = 1;

    public IReadOnlyList<TimedWindow> Windows => _windows;

    /// <summary>Doubles the units until a run takes a tenth of <paramref name="seconds"/>, then scales them to fill it.</summary>
    public void Calibrate(double seconds, long startUnits = 1)
    {
        long units = Math.Max(1, startUnits);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            clock.Restart();
            run(units);
            double elapsed = clock.Elapsed.TotalSeconds;
            if (elapsed >= seconds / 10 || units >= long.MaxValue / 4)
            {
                Units = Math.Max(1, (long)(units * seconds / Math.Max(elapsed, 1e-9)));
                return;
            }

            units *= 2;
        }
    }

    public void TimeWindow()
    {
        double cpu = ProcessCpuClock.Seconds();
        long start = Stopwatch.GetTimestamp();
        run(Units);
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _windows.Add(new TimedWindow(wall, ProcessCpuClock.Seconds() - cpu, Units));
    }

    /// <summary>10^9 operations per second in the fastest window (wall clock): the least disturbed one.</summary>
    public double BestRate => _windows.Max(w => w.Units * OperationsPerUnit / w.WallSeconds) / 1e9;

    public double MedianRate => Median(_windows.Select(w => w.Units * OperationsPerUnit / w.WallSeconds).ToArray()) / 1e9;

    /// <summary>Wall seconds per unit, median over the windows.</summary>
    public double MedianWallPerUnit => Median(_windows.Select(w => w.WallSeconds / w.Units).ToArray());

    /// <summary>CPU seconds per unit, median over the windows (all threads of the process).</summary>
    public double MedianCpuPerUnit => Median(_windows.Select(w => w.CpuSeconds / w.Units).ToArray());

    /// <summary>10^9 operations per CPU second over all windows: what the work costs whoever else shares the cores.</summary>
    public double CpuRate => _windows.Sum(w => w.Units * OperationsPerUnit) / Math.Max(1e-9, _windows.Sum(w => w.CpuSeconds)) / 1e9;

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
