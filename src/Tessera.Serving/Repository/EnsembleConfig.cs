using System.Text.Json;
using Tessera.Serving.Aggregation;

namespace Tessera.Serving.Repository;

/// <summary>
/// An ensemble model (config key "ensemble"): member models served by the same server, the member output to
/// combine, and how (<see cref="AggregationSpec"/>). Every member gets the request's inputs.
/// </summary>
internal sealed record EnsembleConfig(IReadOnlyList<string> Members, string Output, AggregationSpec Aggregation)
{
    public static EnsembleConfig Parse(JsonElement e)
    {
        string[]? members = null;
        string? output = null;
        AggregationKind? kind = null;
        double[]? weights = null;
        int axis = -1;
        var vote = VoteInput.ClassIndices;
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "members": members = p.Value.EnumerateArray().Select(m => m.GetString() ?? throw new ArgumentException("ensemble members are model names")).ToArray(); break;
                case "output": output = p.Value.GetString(); break;
                case "aggregation":
                    kind = AggregationSpec.TryParseKind(p.Value.GetString() ?? "", out var k)
                        ? k
                        : throw new ArgumentException($"unknown aggregation '{p.Value.GetString()}' (known: mean, weighted_mean, majority_vote, max, concat)");
                    break;
                case "weights": weights = p.Value.EnumerateArray().Select(w => w.GetDouble()).ToArray(); break;
                case "axis": axis = p.Value.GetInt32(); break;
                case "vote_input":
                    vote = p.Value.GetString() switch
                    {
                        "class_indices" => VoteInput.ClassIndices,
                        "scores" => VoteInput.Scores,
                        var v => throw new ArgumentException($"vote_input must be \"class_indices\" or \"scores\", not \"{v}\""),
                    };
                    break;
                default:
                    throw new ArgumentException($"unknown key ensemble.{p.Name} (known: members, output, aggregation, weights, axis, vote_input)");
            }
        }

        if (members is not { Length: > 0 }) throw new ArgumentException("ensemble.members must name at least one model");
        if (output is null) throw new ArgumentException("ensemble.output must name the member output to aggregate");
        if (kind is null) throw new ArgumentException("ensemble.aggregation is missing");
        var spec = new AggregationSpec { Kind = kind.Value, Weights = weights, Axis = axis, VoteInput = vote };
        try
        {
            spec.Validate(members.Length);
        }
        catch (AggregationException x)
        {
            throw new ArgumentException($"ensemble: {x.Message}", x);
        }

        return new EnsembleConfig(members, output, spec);
    }
}
