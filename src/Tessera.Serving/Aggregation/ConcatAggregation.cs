using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>Member outputs joined along one axis in member order; any element type, strings included.</summary>
internal static class ConcatAggregation
{
    public static Tensor Run(IReadOnlyList<Tensor> members, int axisSpec, IReadOnlyList<string>? names)
    {
        MemberChecks.SameTypeAndShape(members, names, "concat", sameShape: false);
        var first = members[0];
        if (first.Rank == 0)
        {
            throw new AggregationException("concat: member outputs are scalars; there is no axis to join along");
        }

        int axis = MemberChecks.NormaliseAxis(axisSpec, first.Rank, "concat");
        int joined = 0;
        for (int m = 0; m < members.Count; m++)
        {
            var shape = members[m].Shape;
            if (shape.Length != first.Rank)
            {
                throw new AggregationException(
                    $"concat: {MemberChecks.Label(m, names)} outputs rank {shape.Length} but {MemberChecks.Label(0, names)} outputs rank {first.Rank}");
            }

            for (int d = 0; d < shape.Length; d++)
            {
                if (d != axis && shape[d] != first.Shape[d])
                {
                    throw new AggregationException(
                        $"concat along axis {axis}: {MemberChecks.Label(m, names)} outputs shape {ShapeMath.Format(shape)} but " +
                        $"{MemberChecks.Label(0, names)} outputs {ShapeMath.Format(first.Shape)} (only dimension {axis} may differ)");
                }
            }

            joined = checked(joined + shape[axis]);
        }

        int[] outShape = (int[])first.Shape.Clone();
        outShape[axis] = joined;
        int outer = ShapeMath.Product(first.Shape, 0, axis);
        int inner = ShapeMath.Product(first.Shape, axis + 1, first.Rank);
        var result = first.DataType == DataType.String
            ? Tensor.FromStrings(JoinStrings(members, axis, outer, inner, joined), outShape)
            : Tensor.Allocate(first.DataType, outShape);
        if (first.DataType != DataType.String)
        {
            int size = first.ElementSize;
            var dst = result.Bytes;
            int offset = 0;
            for (int o = 0; o < outer; o++)
            {
                foreach (var t in members)
                {
                    int block = t.Shape[axis] * inner * size;
                    t.Bytes.Slice(o * block, block).CopyTo(dst[offset..]);
                    offset += block;
                }
            }
        }

        return result;
    }

    private static string[] JoinStrings(IReadOnlyList<Tensor> members, int axis, int outer, int inner, int joined)
    {
        var dst = new string[outer * joined * inner];
        int offset = 0;
        for (int o = 0; o < outer; o++)
        {
            foreach (var t in members)
            {
                int block = t.Shape[axis] * inner;
                Array.Copy(t.Strings, o * block, dst, offset, block);
                offset += block;
            }
        }

        return dst;
    }
}
