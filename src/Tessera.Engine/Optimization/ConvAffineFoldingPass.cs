using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Folds a per-output-channel affine map that follows a Conv into the Conv's weights and bias: inference-mode
/// BatchNormalization (W' = W·s, B' = (B - mean)·s + bias with s = scale / √(var + ε)), Mul by a constant, and
/// Add of a constant (PyTorch's bias-free conv followed by an add, PP-OCR's learnable affine blocks). All
/// parameters must be float32 constants; the folded weights are new tensors, the originals are left untouched.
/// </summary>
internal sealed class ConvAffineFoldingPass : IGraphPass
{
    public string Name => "conv-affine-folding";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.Basic;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var conv in graph.Nodes.ToList())
        {
            if (!graph.IsLive(conv) || !GraphEditor.IsOp(conv, "Conv") || conv.Inputs.Count < 2 || conv.Outputs.Count != 1) continue;
            if (graph.Constant(conv.Inputs[1]) is not { DataType: DataType.Float32, Rank: >= 3 } w) continue;
            var bias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? graph.Constant(conv.Inputs[2]) : null;
            if (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && bias is not { DataType: DataType.Float32, Rank: 1 }) continue;
            if (graph.SoleConsumer(conv.Outputs[0]) is not { } next || next.Outputs.Count < 1) continue;

            int channels = w.Shape[0];
            if (!TryAffine(graph, next, conv.Outputs[0], channels, w.Rank, out var scale, out var shift)) continue;

            var (newW, newB) = Fold(w, bias, scale, shift);
            var folded = ModelCopy.Node(conv);
            folded.Inputs.Clear();
            folded.Inputs.AddRange([conv.Inputs[0], graph.AddInitializer(conv.Inputs[1], newW), graph.AddInitializer(conv.Name.Length > 0 ? conv.Name + ".bias" : conv.Inputs[1] + ".bias", newB)]);
            folded.Outputs[0] = next.Outputs[0];
            graph.Replace([conv, next], folded);
            graph.Log($"folded {next} into {conv}");
            changed = true;
        }

        return changed;
    }

    /// <summary>Reads <paramref name="node"/> as y = x·scale[c] + shift[c] per output channel c of x = <paramref name="x"/>.</summary>
    private static bool TryAffine(GraphEditor graph, OnnxNode node, string x, int channels, int rank, out float[] scale, out float[] shift)
    {
        scale = [];
        shift = [];
        if (GraphEditor.IsOp(node, "BatchNormalization"))
        {
            // Training mode (opset 14's attribute, or the extra outputs of older opsets) computes batch statistics.
            bool training = node.Attributes.TryGetValue("training_mode", out var t) && t.Int != 0;
            if (training || node.Inputs.Count != 5 || node.Inputs[0] != x || node.Outputs.Skip(1).Any(o => o.Length > 0)) return false;
            var p = node.Inputs.Skip(1).Select(graph.Constant).ToArray();
            if (p.Any(v => v is not { DataType: DataType.Float32, Rank: 1 } || v.Length != channels)) return false;
            float epsilon = node.Attributes.TryGetValue("epsilon", out var e) ? e.Float : 1e-5f;
            var (gamma, beta, mean, variance) = (p[0]!.ToArray<float>(), p[1]!.ToArray<float>(), p[2]!.ToArray<float>(), p[3]!.ToArray<float>());
            scale = new float[channels];
            shift = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                scale[c] = (float)(gamma[c] / Math.Sqrt(variance[c] + (double)epsilon));
                shift[c] = (float)(beta[c] - mean[c] * (double)scale[c]);
            }

            return true;
        }

        bool mul = GraphEditor.IsOp(node, "Mul");
        if (!mul && !GraphEditor.IsOp(node, "Add")) return false;
        if (GraphEditor.OtherInput(node, x) is not { } other || graph.Constant(other) is not { } c2) return false;
        if (!TryPerChannel(c2, channels, rank, out var values)) return false;
        scale = mul ? values : Enumerable.Repeat(1f, channels).ToArray();
        shift = mul ? new float[channels] : values;
        return true;
    }

    /// <summary>The constant as one value per channel, when it broadcasts over the conv output only along the channel axis (axis 1).</summary>
    private static bool TryPerChannel(Tensor constant, int channels, int rank, out float[] values)
    {
        values = [];
        if (constant.DataType != DataType.Float32 || constant.Rank > rank) return false;
        int offset = rank - constant.Rank;
        for (int d = 0; d < constant.Rank; d++)
        {
            int size = constant.Shape[d];
            if (size != 1 && (d + offset != 1 || size != channels)) return false;
        }

        var data = constant.Span<float>();
        values = new float[channels];
        for (int c = 0; c < channels; c++) values[c] = data[data.Length == 1 ? 0 : c];
        return true;
    }

    private static (Tensor W, Tensor B) Fold(Tensor w, Tensor? bias, float[] scale, float[] shift)
    {
        int channels = w.Shape[0];
        int perChannel = w.Length / channels;
        var newW = Tensor.Allocate(DataType.Float32, w.Shape);
        var source = w.Span<float>();
        var target = newW.Span<float>();
        for (int c = 0; c < channels; c++)
        {
            for (int i = c * perChannel; i < (c + 1) * perChannel; i++) target[i] = source[i] * scale[c];
        }

        var newB = Tensor.Allocate(DataType.Float32, [channels]);
        var b = newB.Span<float>();
        for (int c = 0; c < channels; c++) b[c] = (bias is null ? 0 : bias.Span<float>()[c]) * scale[c] + shift[c];
        return (newW, newB);
    }
}
