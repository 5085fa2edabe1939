namespace Tessera.Serving.Aggregation;

/// <summary>What the members of a <see cref="AggregationKind.MajorityVote"/> ensemble output.</summary>
public enum VoteInput
{
    /// <summary>Integer class indices (or labels), one per position; the vote is taken position by position.</summary>
    ClassIndices = 1,

    /// <summary>Scores (logits or probabilities) with the classes along <see cref="AggregationSpec.Axis"/>; each member votes for its argmax.</summary>
    Scores = 2,
}
