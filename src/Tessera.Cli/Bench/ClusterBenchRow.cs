namespace Tessera.Cli.Bench;

/// <summary>
/// One measured way of running the batch: rows per second over the timed window, the median batch time, and the CPU
/// time spent per row over the window — by this process for a single-process row, by the workers together (and
/// separately by the coordinator, this process) for a distributed one.
/// </summary>
internal sealed record ClusterBenchRow(string Name, int InFlight, double RowsPerSecond, double MedianMs, int Runs, double CpuMsPerRow, double? CoordinatorCpuMsPerRow = null);
