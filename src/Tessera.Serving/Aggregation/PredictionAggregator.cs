using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>
/// Combines the outputs of an ensemble's members (one tensor per member, for the same output of the same request)
/// into one tensor. Members are never modified; the result is a new tensor the caller owns.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>mean, weighted_mean: float32/float64/float16/bfloat16; accumulated in float64 and rounded once, so the
/// result does not depend on the member order beyond float64 rounding. NaN in any member gives NaN.</item>
/// <item>max: every numeric type and bool (logical or); NaN in any member gives NaN (like numpy.maximum).</item>
/// <item>concat: every element type including strings; members in order, along <see cref="AggregationSpec.Axis"/>;
/// all other dimensions must agree.</item>
/// <item>majority_vote over class indices: integer outputs of one shape; per position the value most members
/// output. Ties go to the smallest value (like scikit-learn's hard voting), so the result never depends on the
/// order of the members. The result has the members' type and shape.</item>
/// <item>majority_vote over scores: each member's argmax along the class axis (the first maximum on ties; a NaN
/// counts as the maximum, like numpy.argmax), then the vote above. The result is int64 with the class axis removed.</item>
/// </list>
/// Shape and type mismatches throw <see cref="AggregationException"/> naming the member (by
/// <paramref name="memberNames"/> when given, else by index).
/// </remarks>
public static class PredictionAggregator
{
    public static Tensor Aggregate(AggregationSpec spec, IReadOnlyList<Tensor> memberOutputs, IReadOnlyList<string>? memberNames = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(memberOutputs);
        spec.Validate(memberOutputs.Count);
        return spec.Kind switch
        {
            AggregationKind.Mean => MeanAggregation.Run(memberOutputs, Equal(memberOutputs.Count), memberNames, "mean"),
            AggregationKind.WeightedMean => MeanAggregation.Run(memberOutputs, spec.NormalisedWeights(memberOutputs.Count), memberNames, "weighted_mean"),
            AggregationKind.Max => MaxAggregation.Run(memberOutputs, memberNames),
            AggregationKind.Concat => ConcatAggregation.Run(memberOutputs, spec.Axis, memberNames),
            AggregationKind.MajorityVote => spec.VoteInput == VoteInput.Scores
                ? MajorityVote.OverScores(memberOutputs, spec.Axis, memberNames)
                : MajorityVote.OverClassIndices(memberOutputs, memberNames),
            _ => throw new AggregationException($"unknown aggregation kind {(int)spec.Kind}"),
        };
    }

    private static double[] Equal(int count)
    {
        var w = new double[count];
        Array.Fill(w, 1.0 / count);
        return w;
    }
}
