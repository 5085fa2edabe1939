using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A value made by DequantizeLinear(q, scale, zero_point) whose scale and zero point are constants: the quantized
/// side of a QDQ pattern. <see cref="Values"/> is q's content when q is a constant too (a quantized weight).
/// </summary>
internal sealed class DequantizedInput
{
    private DequantizedInput(OnnxNode node, Tensor scale, Tensor? zeroPoint, int axis, Tensor? values)
    {
        Node = node;
        Scale = scale;
        ZeroPoint = zeroPoint;
        Axis = axis;
        Values = values;
    }

    public OnnxNode Node { get; }

    public string Quantized => Node.Inputs[0];

    public string ScaleName => Node.Inputs[1];

    public string ZeroPointName => Node.Inputs.Count > 2 ? Node.Inputs[2] : string.Empty;

    public Tensor Scale { get; }

    public Tensor? ZeroPoint { get; }

    /// <summary>The axis of per-axis parameters (normalized to be non-negative when the rank is known), or -1 per tensor.</summary>
    public int Axis { get; }

    public Tensor? Values { get; }

    public bool PerTensor => Scale.Length == 1;

    public static DequantizedInput? Match(GraphEditor graph, string value)
    {
        if (graph.Producer(value) is not { } node || !GraphEditor.IsOp(node, "DequantizeLinear") || node.Inputs.Count < 2) return null;
        if (graph.Constant(node.Inputs[1]) is not { DataType: DataType.Float32, Rank: <= 1 } scale) return null;
        Tensor? zero = null;
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            zero = graph.Constant(node.Inputs[2]);
            if (zero is null || zero.Length != scale.Length) return null;
        }

        var values = graph.Constant(node.Inputs[0]);
        int? rank = values?.Rank ?? graph.Rank(node.Inputs[0]);
        int axis = -1;
        if (scale.Length > 1)
        {
            long attribute = node.Attributes.TryGetValue("axis", out var a) ? a.Int : 1;
            if (rank is null) return null;
            axis = (int)(attribute < 0 ? attribute + rank.Value : attribute);
        }

        return new DequantizedInput(node, scale, zero, axis, values);
    }

    /// <summary>A per-tensor activation: scalar parameters and a uint8 or int8 quantized value.</summary>
    public bool IsActivation(GraphEditor graph) =>
        PerTensor && graph.ElementType(Quantized) is DataType.UInt8 or DataType.Int8;

    /// <summary>A constant 8-bit weight whose parameters are per tensor or along <paramref name="outputAxis"/>.</summary>
    public bool IsWeight(int outputAxis) =>
        Values is { DataType: DataType.UInt8 or DataType.Int8 } && (PerTensor || Axis == outputAxis);
}
