using System.Globalization;
using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>
/// One ensemble aggregation: the kind plus its parameters. Immutable; check it once against the member count with
/// <see cref="Validate"/> (e.g. when a model config is loaded), then apply it per request with
/// <see cref="PredictionAggregator.Aggregate"/>.
/// </summary>
public sealed record AggregationSpec
{
    public required AggregationKind Kind { get; init; }

    /// <summary>
    /// <see cref="AggregationKind.WeightedMean"/> only: one weight per member, finite, non-negative, with a positive
    /// sum; they are normalised to sum 1, so 1,3 means 0.25,0.75.
    /// </summary>
    public IReadOnlyList<double>? Weights { get; init; }

    /// <summary>
    /// <see cref="AggregationKind.Concat"/>: the axis to join along; <see cref="AggregationKind.MajorityVote"/> over
    /// <see cref="VoteInput.Scores"/>: the class axis. Negative counts from the end. Default -1 (the last axis).
    /// </summary>
    public int Axis { get; init; } = -1;

    /// <summary><see cref="AggregationKind.MajorityVote"/> only: what the members output.</summary>
    public VoteInput VoteInput { get; init; } = VoteInput.ClassIndices;

    /// <summary>The spelling used in configs and messages: mean, weighted_mean, majority_vote, max, concat.</summary>
    public static string NameOf(AggregationKind kind) => kind switch
    {
        AggregationKind.Mean => "mean",
        AggregationKind.WeightedMean => "weighted_mean",
        AggregationKind.MajorityVote => "majority_vote",
        AggregationKind.Max => "max",
        AggregationKind.Concat => "concat",
        _ => kind.ToString(),
    };

    /// <summary>Parses a name written by <see cref="NameOf"/> (case-insensitive; '-' may replace '_').</summary>
    public static bool TryParseKind(string name, out AggregationKind kind)
    {
        string n = name.Trim().Replace('-', '_').ToLowerInvariant();
        foreach (var k in Enum.GetValues<AggregationKind>())
        {
            if (NameOf(k) == n)
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>Throws <see cref="AggregationException"/> when this spec cannot combine <paramref name="memberCount"/> members.</summary>
    public void Validate(int memberCount)
    {
        if (memberCount < 1)
        {
            throw new AggregationException($"{NameOf(Kind)} needs at least one member");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new AggregationException($"unknown aggregation kind {(int)Kind}");
        }

        if (Kind == AggregationKind.WeightedMean)
        {
            NormalisedWeights(memberCount);
        }
        else if (Weights is not null)
        {
            throw new AggregationException($"{NameOf(Kind)} takes no weights (only weighted_mean does)");
        }

        if (Kind == AggregationKind.MajorityVote && !Enum.IsDefined(VoteInput))
        {
            throw new AggregationException($"unknown vote input {(int)VoteInput}");
        }
    }

    /// <summary>The element type of the aggregate when members output <paramref name="memberType"/>.</summary>
    public DataType OutputDataType(DataType memberType) =>
        Kind == AggregationKind.MajorityVote && VoteInput == VoteInput.Scores ? DataType.Int64 : memberType;

    /// <summary>
    /// The shape of the aggregate given the members' declared shapes (-1 for a dimension not known in advance);
    /// for metadata, e.g. an ensemble's GET /v2/models/{name}. Throws <see cref="AggregationException"/> on a mismatch.
    /// </summary>
    public long[] OutputShape(IReadOnlyList<long[]> memberShapes)
    {
        Validate(memberShapes.Count);
        long[] first = memberShapes[0];
        for (int m = 1; m < memberShapes.Count; m++)
        {
            if (memberShapes[m].Length != first.Length)
            {
                throw new AggregationException($"member {m} has rank {memberShapes[m].Length} but member 0 has rank {first.Length}");
            }
        }

        if (Kind == AggregationKind.Concat)
        {
            int axis = MemberChecks.NormaliseAxis(Axis, first.Length, "concat");
            long[] shape = (long[])first.Clone();
            shape[axis] = memberShapes.Any(s => s[axis] < 0) ? -1 : memberShapes.Sum(s => s[axis]);
            return shape;
        }

        if (Kind == AggregationKind.MajorityVote && VoteInput == VoteInput.Scores)
        {
            int axis = MemberChecks.NormaliseAxis(Axis, first.Length, "majority_vote");
            return [.. first.Take(axis), .. first.Skip(axis + 1)];
        }

        return (long[])first.Clone();
    }

    internal double[] NormalisedWeights(int memberCount)
    {
        if (Weights is null)
        {
            throw new AggregationException("weighted_mean needs one weight per member");
        }

        if (Weights.Count != memberCount)
        {
            throw new AggregationException($"weighted_mean has {Weights.Count} weights for {memberCount} members");
        }

        double sum = 0;
        for (int i = 0; i < Weights.Count; i++)
        {
            double w = Weights[i];
            if (!double.IsFinite(w) || w < 0)
            {
                throw new AggregationException($"weight {i} is {w.ToString(CultureInfo.InvariantCulture)}: weights must be finite and 0 or more");
            }

            sum += w;
        }

        if (!(sum > 0))
        {
            throw new AggregationException("the weights sum to 0: at least one must be positive");
        }

        return [.. Weights.Select(w => w / sum)];
    }
}
