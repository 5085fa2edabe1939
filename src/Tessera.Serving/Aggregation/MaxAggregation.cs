using System.Numerics;
using Tessera.Tensors;

namespace Tessera.Serving.Aggregation;

/// <summary>Element-wise maximum over member outputs of any numeric type; bool is a logical or.</summary>
internal static class MaxAggregation
{
    public static Tensor Run(IReadOnlyList<Tensor> members, IReadOnlyList<string>? names)
    {
        MemberChecks.SameTypeAndShape(members, names, "max");
        var type = members[0].DataType;
        var result = members[0].Clone();
        switch (type)
        {
            case DataType.Float32: Fold<float>(members, result); break;
            case DataType.Float64: Fold<double>(members, result); break;
            case DataType.Float16: Fold<Half>(members, result); break;
            case DataType.Int64: Fold<long>(members, result); break;
            case DataType.Int32: Fold<int>(members, result); break;
            case DataType.Int16: Fold<short>(members, result); break;
            case DataType.Int8: Fold<sbyte>(members, result); break;
            case DataType.UInt64: Fold<ulong>(members, result); break;
            case DataType.UInt32: Fold<uint>(members, result); break;
            case DataType.UInt16: Fold<ushort>(members, result); break;
            case DataType.UInt8 or DataType.Bool: Fold<byte>(members, result); break; // bool is 0/1: max is or
            case DataType.BFloat16: FoldBFloat16(members, result); break;
            default: throw MemberChecks.Unsupported("max", type, string.Empty);
        }

        return result;
    }

    private static void Fold<T>(IReadOnlyList<Tensor> members, Tensor result) where T : unmanaged, INumber<T>
    {
        var dst = result.Span<T>();
        for (int m = 1; m < members.Count; m++)
        {
            var src = members[m].Span<T>();
            for (int i = 0; i < dst.Length; i++)
            {
                // T.Max propagates NaN for floating point types (IEEE 754-2019 maximum).
                dst[i] = T.Max(dst[i], src[i]);
            }
        }
    }

    private static void FoldBFloat16(IReadOnlyList<Tensor> members, Tensor result)
    {
        var dst = result.Span<BFloat16>();
        for (int m = 1; m < members.Count; m++)
        {
            var src = members[m].Span<BFloat16>();
            for (int i = 0; i < dst.Length; i++)
            {
                float a = dst[i].ToSingle(), b = src[i].ToSingle();
                if (float.IsNaN(b) || b > a) dst[i] = src[i];
            }
        }
    }
}
