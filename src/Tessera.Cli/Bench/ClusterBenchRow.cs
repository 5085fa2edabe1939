namespace Tessera.Cli.Bench;

/// <summary>One measured way of running the batch: rows per second over the timed window, and the median batch time.</summary>
internal sealed record ClusterBenchRow(string Name, int InFlight, double RowsPerSecond, double MedianMs, int Runs);
