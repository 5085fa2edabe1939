using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>What passes may know about a value: its constant content, element type and shape.</summary>
internal sealed partial class GraphEditor
{
    /// <summary>The value's tensor when it is a non-overridable initializer or the output of a Constant node; otherwise null.</summary>
    public Tensor? Constant(string value)
    {
        if (value.Length == 0) return null;
        if (Graph.Initializers.TryGetValue(value, out var tensor))
        {
            return Graph.OverridableInitializers.Contains(value) ? null : tensor;
        }

        if (Producer(value) is not { OpType: "Constant", Domain: "" or "ai.onnx" } node) return null;
        foreach (var a in node.Attributes.Values)
        {
            switch (a.Name)
            {
                case "value": return a.Tensor;
                case "value_float": return Tensor.Scalar(a.Float);
                case "value_floats": return Tensor.FromArray(a.Floats, a.Floats.Length);
                case "value_int": return Tensor.Scalar(a.Int);
                case "value_ints": return Tensor.FromArray(a.Ints, a.Ints.Length);
            }
        }

        return null;
    }

    /// <summary>A constant float32 value holding one element, of rank 0 or 1 as exporters write scalars.</summary>
    public bool TryScalar(string value, out float scalar)
    {
        scalar = 0;
        if (Constant(value) is not { DataType: DataType.Float32, Length: 1, Rank: <= 1 } t) return false;
        scalar = t.Span<float>()[0];
        return true;
    }

    /// <summary>Like <see cref="TryScalar"/>, and the scalar is within a relative 1e-4 of <paramref name="expected"/>.</summary>
    public bool IsScalar(string value, double expected) =>
        TryScalar(value, out float v) && Math.Abs(v - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected));

    public DataType ElementType(string value) =>
        Constant(value)?.DataType ?? Graph.FindValueInfo(value)?.ElementType ?? DataType.Undefined;

    public Dimension[]? Shape(string value) =>
        Constant(value) is { } t ? t.Shape.Select(d => Dimension.Known(d)).ToArray() : Graph.FindValueInfo(value)?.Shape;

    public int? Rank(string value) => Shape(value)?.Length;

    /// <summary>The input of a binary node that is not <paramref name="known"/>; null unless the node reads it exactly once.</summary>
    public static string? OtherInput(OnnxNode node, string known)
    {
        if (node.Inputs.Count != 2) return null;
        if (node.Inputs[0] == known && node.Inputs[1] != known) return node.Inputs[1];
        if (node.Inputs[1] == known && node.Inputs[0] != known) return node.Inputs[0];
        return null;
    }

    public static bool IsOp(OnnxNode? node, string opType) => node is not null && node.OpType == opType && node.Domain is "" or "ai.onnx";
}
