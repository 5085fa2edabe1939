using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>
/// One node the quantizer rewrites: its constant float weight (input <see cref="WeightIndex"/>) and the axis of the
/// weight that indexes output channels (per-channel scales run along it).
/// </summary>
internal sealed record QuantizationTarget(OnnxNode Node, string Weight, Tensor Value, int WeightIndex, int ChannelAxis)
{
    /// <summary>The target for <paramref name="node"/>, or null when it is not a supported form with a constant float weight.</summary>
    public static QuantizationTarget? For(OnnxNode node, OnnxGraph graph)
    {
        if (node.Domain is not ("" or "ai.onnx")) return null;
        Tensor? Constant(int i) =>
            i < node.Inputs.Count && graph.Initializers.TryGetValue(node.Inputs[i], out var t) && !graph.OverridableInitializers.Contains(node.Inputs[i])
                && t.DataType == DataType.Float32 ? t : null;

        switch (node.OpType)
        {
            case "MatMul" when Constant(1) is { Rank: 2 } w:
                return new QuantizationTarget(node, node.Inputs[1], w, 1, 1);
            case "Gemm" when Constant(1) is { Rank: 2 } w && Int(node, "transA") == 0 && Float(node, "alpha") == 1 && Float(node, "beta") == 1:
                return new QuantizationTarget(node, node.Inputs[1], w, 1, Int(node, "transB") != 0 ? 0 : 1);
            case "Conv" when Constant(1) is { Rank: >= 3 } w:
                return new QuantizationTarget(node, node.Inputs[1], w, 1, 0);
            case "Gather" when Constant(0) is { Rank: 2 } w && Int(node, "axis") == 0:
                return new QuantizationTarget(node, node.Inputs[0], w, 0, 0);
            default:
                return null;
        }
    }

    private static long Int(OnnxNode node, string name) => node.Attributes.TryGetValue(name, out var a) ? a.Int : 0;

    private static float Float(OnnxNode node, string name) => node.Attributes.TryGetValue(name, out var a) ? a.Float : 1f;
}
