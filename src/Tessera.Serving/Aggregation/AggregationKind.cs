namespace Tessera.Serving.Aggregation;

/// <summary>How an ensemble combines the outputs of its members. Numbers are fixed (configs and metrics may store them).</summary>
public enum AggregationKind
{
    /// <summary>Element-wise arithmetic mean (floating point outputs).</summary>
    Mean = 1,

    /// <summary>Element-wise mean with one non-negative weight per member, normalised to sum 1 (floating point outputs).</summary>
    WeightedMean = 2,

    /// <summary>The most frequent class per position, over class indices or over the argmax of scores.</summary>
    MajorityVote = 3,

    /// <summary>Element-wise maximum (any numeric or bool output).</summary>
    Max = 4,

    /// <summary>The member outputs joined along one axis, in member order (any element type).</summary>
    Concat = 5,
}
