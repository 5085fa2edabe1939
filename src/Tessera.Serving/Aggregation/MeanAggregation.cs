using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>Element-wise (weighted) mean of floating point member outputs, accumulated in float64.</summary>
internal static class MeanAggregation
{
    /// <summary><paramref name="weights"/> are normalised (sum 1); equal weights are computed as sum / N, exactly a mean.</summary>
    public static Tensor Run(IReadOnlyList<Tensor> members, double[] weights, IReadOnlyList<string>? names, string what)
    {
        MemberChecks.SameTypeAndShape(members, names, what);
        var type = members[0].DataType;
        if (!DataTypes.IsFloatingPoint(type))
        {
            throw MemberChecks.Unsupported(what, type, " (use majority_vote for class indices, or max)");
        }

        bool equal = weights.All(w => w == weights[0]);
        var acc = new double[members[0].Length];
        for (int m = 0; m < members.Count; m++)
        {
            Float64Accumulation.AddScaled(members[m], equal ? 1.0 : weights[m], acc);
        }

        if (equal)
        {
            double n = members.Count;
            for (int i = 0; i < acc.Length; i++) acc[i] /= n;
        }

        var result = Tensor.Allocate(type, members[0].Shape);
        Float64Accumulation.Store(acc, result);
        return result;
    }
}
