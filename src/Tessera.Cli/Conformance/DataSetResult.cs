namespace Tessera.Cli.Conformance;

/// <summary>
/// One test_data_set_N of a case: its inputs, the largest differences over its outputs (NaN when no output was
/// compared, e.g. when the run failed) and the failure, if any.
/// </summary>
public sealed record DataSetResult(
    string Name, IReadOnlyList<TensorSummary> Inputs, double MaxAbsDiff, double MaxRelDiff, string? Failure);
