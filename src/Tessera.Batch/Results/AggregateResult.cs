namespace Tessera.Batch.Results;

/// <summary>
/// An output's reduction over the records: <see cref="Values"/> in the record's shape (the mean or averaged
/// probabilities), or for a vote the <see cref="Counts"/> per class and the winning <see cref="Class"/>.
/// </summary>
public sealed record AggregateResult(string Kind, int[] Shape, double[]? Values, long[]? Counts = null, int? Class = null);
