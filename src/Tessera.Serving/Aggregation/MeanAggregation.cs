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
            Accumulate(members[m], equal ? 1.0 : weights[m], acc);
        }

        if (equal)
        {
            double n = members.Count;
            for (int i = 0; i < acc.Length; i++) acc[i] /= n;
        }

        var result = Tensor.Allocate(type, members[0].Shape);
        Store(acc, result);
        return result;
    }

    private static void Accumulate(Tensor t, double w, double[] acc)
    {
        switch (t.DataType)
        {
            case DataType.Float32:
                var f = t.Span<float>();
                for (int i = 0; i < acc.Length; i++) acc[i] += w * f[i];
                break;
            case DataType.Float64:
                var d = t.Span<double>();
                for (int i = 0; i < acc.Length; i++) acc[i] += w * d[i];
                break;
            case DataType.Float16:
                var h = t.Span<Half>();
                for (int i = 0; i < acc.Length; i++) acc[i] += w * (double)h[i];
                break;
            case DataType.BFloat16:
                var b = t.Span<BFloat16>();
                for (int i = 0; i < acc.Length; i++) acc[i] += w * b[i].ToSingle();
                break;
        }
    }

    private static void Store(double[] acc, Tensor result)
    {
        switch (result.DataType)
        {
            case DataType.Float32:
                var f = result.Span<float>();
                for (int i = 0; i < acc.Length; i++) f[i] = (float)acc[i];
                break;
            case DataType.Float64:
                acc.CopyTo(result.Span<double>());
                break;
            case DataType.Float16:
                var h = result.Span<Half>();
                for (int i = 0; i < acc.Length; i++) h[i] = (Half)acc[i];
                break;
            case DataType.BFloat16:
                var b = result.Span<BFloat16>();
                for (int i = 0; i < acc.Length; i++) b[i] = BFloat16.FromDouble(acc[i]);
                break;
        }
    }
}
