using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>The checks every aggregation makes on its member outputs, with messages that name the member.</summary>
internal static class MemberChecks
{
    public static string Label(int member, IReadOnlyList<string>? names) =>
        names is not null && member < names.Count ? $"member '{names[member]}'" : $"member {member}";

    public static int NormaliseAxis(int axis, int rank, string what)
    {
        int a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : throw new AggregationException($"{what}: axis {axis} is out of range for outputs of rank {rank}");
    }

    /// <summary>Every member has member 0's element type; and its shape too unless <paramref name="sameShape"/> is false.</summary>
    public static void SameTypeAndShape(IReadOnlyList<Tensor> members, IReadOnlyList<string>? names, string what, bool sameShape = true)
    {
        if (members.Count == 0)
        {
            throw new AggregationException($"{what} needs at least one member output");
        }

        var first = members[0];
        for (int m = 1; m < members.Count; m++)
        {
            var t = members[m];
            if (t.DataType != first.DataType)
            {
                throw new AggregationException(
                    $"{what}: {Label(m, names)} outputs {DataTypes.Name(t.DataType)} but {Label(0, names)} outputs {DataTypes.Name(first.DataType)}");
            }

            if (sameShape && !t.Shape.AsSpan().SequenceEqual(first.Shape))
            {
                throw new AggregationException(
                    $"{what}: {Label(m, names)} outputs shape {ShapeMath.Format(t.Shape)} but {Label(0, names)} outputs {ShapeMath.Format(first.Shape)}");
            }
        }
    }

    public static AggregationException Unsupported(string what, DataType type, string hint) =>
        new($"{what} is not defined for {DataTypes.Name(type)} outputs{hint}");
}
