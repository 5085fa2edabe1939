using System.Numerics;
using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>
/// Hard voting: per position, the value most members give; a tie goes to the smallest value, so the result does
/// not depend on the order of the members.
/// </summary>
internal static class MajorityVote
{
    public static Tensor OverClassIndices(IReadOnlyList<Tensor> members, IReadOnlyList<string>? names)
    {
        MemberChecks.SameTypeAndShape(members, names, "majority_vote");
        var type = members[0].DataType;
        var result = Tensor.Allocate(type, members[0].Shape);
        switch (type)
        {
            case DataType.Int64: Vote<long>(members, result); break;
            case DataType.Int32: Vote<int>(members, result); break;
            case DataType.Int16: Vote<short>(members, result); break;
            case DataType.Int8: Vote<sbyte>(members, result); break;
            case DataType.UInt64: Vote<ulong>(members, result); break;
            case DataType.UInt32: Vote<uint>(members, result); break;
            case DataType.UInt16: Vote<ushort>(members, result); break;
            case DataType.UInt8 or DataType.Bool: Vote<byte>(members, result); break;
            default:
                throw MemberChecks.Unsupported("majority_vote over class indices", type, " (members must output integer class indices; vote over scores instead)");
        }

        return result;
    }

    public static Tensor OverScores(IReadOnlyList<Tensor> members, int axisSpec, IReadOnlyList<string>? names)
    {
        MemberChecks.SameTypeAndShape(members, names, "majority_vote");
        var first = members[0];
        if (first.Rank == 0)
        {
            throw new AggregationException("majority_vote over scores: member outputs are scalars; there is no class axis");
        }

        int axis = MemberChecks.NormaliseAxis(axisSpec, first.Rank, "majority_vote over scores");
        if (first.Shape[axis] == 0)
        {
            throw new AggregationException($"majority_vote over scores: the class axis {axis} has no classes (shape {ShapeMath.Format(first.Shape)})");
        }

        int[] outShape = [.. first.Shape.Take(axis), .. first.Shape.Skip(axis + 1)];
        var indices = new Tensor[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            indices[m] = ArgMax(members[m], axis, outShape);
        }

        var result = Tensor.Allocate(DataType.Int64, outShape);
        Vote<long>(indices, result);
        return result;
    }

    private static void Vote<T>(IReadOnlyList<Tensor> members, Tensor result) where T : unmanaged, INumber<T>
    {
        var dst = result.Span<T>();
        int n = members.Count;
        Span<T> values = n <= 64 ? stackalloc T[n] : new T[n];
        for (int i = 0; i < dst.Length; i++)
        {
            for (int m = 0; m < n; m++) values[m] = members[m].Span<T>()[i];

            // n is the number of ensemble members (a handful): counting pairs beats any hashing here.
            T best = values[0];
            int bestCount = 0;
            for (int a = 0; a < n; a++)
            {
                int count = 0;
                for (int b = 0; b < n; b++) if (values[b] == values[a]) count++;
                if (count > bestCount || (count == bestCount && values[a] < best))
                {
                    best = values[a];
                    bestCount = count;
                }
            }

            dst[i] = best;
        }
    }

    private static Tensor ArgMax(Tensor scores, int axis, int[] outShape)
    {
        var result = Tensor.Allocate(DataType.Int64, outShape);
        int outer = ShapeMath.Product(scores.Shape, 0, axis);
        int classes = scores.Shape[axis];
        int inner = ShapeMath.Product(scores.Shape, axis + 1, scores.Rank);
        var dst = result.Span<long>();
        switch (scores.DataType)
        {
            case DataType.Float32: ArgMax(scores.Span<float>(), outer, classes, inner, dst); break;
            case DataType.Float64: ArgMax(scores.Span<double>(), outer, classes, inner, dst); break;
            case DataType.Float16: ArgMax(scores.Span<Half>(), outer, classes, inner, dst); break;
            case DataType.BFloat16:
                float[] widened = [.. scores.Span<BFloat16>().ToArray().Select(b => b.ToSingle())];
                ArgMax<float>(widened, outer, classes, inner, dst);
                break;
            case DataType.Int64: ArgMax(scores.Span<long>(), outer, classes, inner, dst); break;
            case DataType.Int32: ArgMax(scores.Span<int>(), outer, classes, inner, dst); break;
            case DataType.Int16: ArgMax(scores.Span<short>(), outer, classes, inner, dst); break;
            case DataType.Int8: ArgMax(scores.Span<sbyte>(), outer, classes, inner, dst); break;
            case DataType.UInt64: ArgMax(scores.Span<ulong>(), outer, classes, inner, dst); break;
            case DataType.UInt32: ArgMax(scores.Span<uint>(), outer, classes, inner, dst); break;
            case DataType.UInt16: ArgMax(scores.Span<ushort>(), outer, classes, inner, dst); break;
            case DataType.UInt8: ArgMax(scores.Span<byte>(), outer, classes, inner, dst); break;
            default: throw MemberChecks.Unsupported("majority_vote over scores", scores.DataType, string.Empty);
        }

        return result;
    }

    /// <summary>The first index of the maximum along the class axis; a NaN counts as the maximum (numpy.argmax).</summary>
    private static void ArgMax<T>(ReadOnlySpan<T> src, int outer, int classes, int inner, Span<long> dst) where T : unmanaged, INumber<T>
    {
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                int baseIndex = o * classes * inner + j;
                T best = src[baseIndex];
                int bestIndex = 0;
                for (int c = 1; c < classes && !T.IsNaN(best); c++)
                {
                    T v = src[baseIndex + (c * inner)];
                    if (v > best || T.IsNaN(v))
                    {
                        best = v;
                        bestIndex = c;
                    }
                }

                dst[(o * inner) + j] = bestIndex;
            }
        }
    }
}
