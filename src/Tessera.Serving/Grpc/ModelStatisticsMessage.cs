using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Metrics;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Grpc;

/// <summary>
/// A served model's cumulative statistics in Triton's ModelStatistics form, read from the same counters as
/// /metrics: requests by outcome with their total times, queue and compute times, rows and batches, and the
/// batches of each size with their times.
/// </summary>
internal static class ModelStatisticsMessage
{
    public static ModelStatistics From(ServedModel model)
    {
        var m = model.Metrics;
        long failed = 0, failedNs = 0;
        foreach (var outcome in Enum.GetValues<RequestOutcome>())
        {
            if (outcome != RequestOutcome.Success)
            {
                failed += m.Outcome(outcome);
                failedNs += m.OutcomeNanoseconds(outcome);
            }
        }

        var (batches, rows) = (m.BatchSize.Count, (long)m.BatchSize.Sum);
        var bySize = m.Batches.Snapshot();
        var statistics = new ModelStatistics
        {
            Name = model.Name,
            Version = model.Version,
            LastInference = (ulong)m.LastRequestUnixMs,
            InferenceCount = (ulong)rows,
            ExecutionCount = (ulong)batches,
            InferenceStats = new InferStatistics
            {
                Success = Duration(m.Outcome(RequestOutcome.Success), m.OutcomeNanoseconds(RequestOutcome.Success)),
                Fail = Duration(failed, failedNs),
                Queue = Duration(m.QueueSeconds),
                ComputeInput = Duration(bySize.Sum(b => b.Count), bySize.Sum(b => b.InputNs)),
                ComputeInfer = Duration(m.ComputeSeconds),
                ComputeOutput = Duration(bySize.Sum(b => b.Count), bySize.Sum(b => b.OutputNs)),
            },
        };
        foreach (var b in bySize)
        {
            statistics.BatchStats.Add(new InferBatchStatistics
            {
                BatchSize = (ulong)b.Rows,
                ComputeInput = Duration(b.Count, b.InputNs),
                ComputeInfer = Duration(b.Count, b.InferNs),
                ComputeOutput = Duration(b.Count, b.OutputNs),
            });
        }

        return statistics;
    }

    private static StatisticDuration Duration(Histogram h) => Duration(h.Count, (long)(h.Sum * 1e9));

    private static StatisticDuration Duration(long count, long ns) => new() { Count = (ulong)count, Ns = (ulong)Math.Max(ns, 0) };
}
