using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// Whether two ranks' copies of a node compute the same thing: equal attributes and equal constant tensors, bit
/// for bit. String tensors and subgraph attributes count as equal only when they are the same object (conservative: a difference
/// the comparison cannot see must not make a rank-local value look replicated).
/// </summary>
internal static class ConstantInvariant
{
    public static bool SameAttributes(OnnxNode a, OnnxNode b)
    {
        if (a.Attributes.Count != b.Attributes.Count) return false;
        foreach (var (key, x) in a.Attributes)
        {
            if (!b.Attributes.TryGetValue(key, out var y) || !Same(x, y)) return false;
        }

        return true;
    }

    public static bool SameTensor(Tensor? a, Tensor? b) =>
        ReferenceEquals(a, b)
        || (a is not null && b is not null && a.DataType == b.DataType && a.Shape.AsSpan().SequenceEqual(b.Shape)
            && a.DataType != DataType.String && a.Bytes.SequenceEqual(b.Bytes));

    private static bool Same(NodeAttribute x, NodeAttribute y)
    {
        if (ReferenceEquals(x, y)) return true;
        return x.Kind == y.Kind
            && BitConverter.SingleToInt32Bits(x.Float) == BitConverter.SingleToInt32Bits(y.Float)
            && x.Int == y.Int
            && x.String == y.String
            && x.Ints.AsSpan().SequenceEqual(y.Ints)
            && x.Floats.Select(BitConverter.SingleToInt32Bits).SequenceEqual(y.Floats.Select(BitConverter.SingleToInt32Bits))
            && x.Strings.SequenceEqual(y.Strings, StringComparer.Ordinal)
            && SameTensor(x.Tensor, y.Tensor)
            && x.Tensors.Length == y.Tensors.Length && x.Tensors.Zip(y.Tensors).All(p => SameTensor(p.First, p.Second))
            && ReferenceEquals(x.Graph, y.Graph)
            && x.Graphs.Length == y.Graphs.Length && x.Graphs.Zip(y.Graphs).All(p => ReferenceEquals(p.First, p.Second));
    }
}
