namespace Tessera.Batch.Results;

/// <summary>A reduction over the records of each output (`tessera batch --aggregate`).</summary>
public enum AggregateKind
{
    /// <summary>The mean of each element over the records.</summary>
    Mean,

    /// <summary>Each record's softmax over its last axis, then the mean over the records (averaged class probabilities).</summary>
    SoftmaxMean,

    /// <summary>Each record's class (the index of its largest value, the first on a tie) counted; the most counted wins, ties to the smallest class.</summary>
    Vote,
}
