namespace Tessera.Serving.Scheduling;

/// <summary>One replica's gauges: batches and rows handed to it, calls it has not started, measured speed, totals.</summary>
internal sealed record ReplicaSnapshot(int Index, int InflightBatches, long InflightRows, int Waiting, double RowsPerSecond, long Batches, long Rows);
