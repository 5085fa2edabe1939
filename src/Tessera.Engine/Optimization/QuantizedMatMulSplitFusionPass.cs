using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A com.tessera QuantizedMatMul by a constant weight whose only reader is a Split of its last axis into equal parts
/// (GPT-style attention's one Q/K/V projection, split after the product) → the same QuantizedMatMul with the Split's
/// outputs as its own: the epilogue writes each 16-column tile into its part (as it does for the products that
/// shared-input-quantized-matmul-fusion merges), so the copy of the whole product into three tensors goes away. The
/// same bits: the parts hold exactly the values the Split copied. Parts must be a multiple of the GEMM's 16-column
/// tile wide (the kernel refuses others); runs before residual and activation fusion, which leave nodes of several
/// outputs alone, and after the fusions that make the QuantizedMatMul.
/// </summary>
internal sealed class QuantizedMatMulSplitFusionPass : IGraphPass
{
    private const int TileColumns = 16;

    public string Name => "quantized-matmul-split-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || Width(graph, node) is not { } width) continue;
            var split = graph.SoleConsumer(node.Outputs[0]);
            if (!GraphEditor.IsOp(split, "Split") || split!.Inputs[0] != node.Outputs[0] || !SplitsLastAxisEvenly(graph, split, node.Inputs[0], width)) continue;

            var fused = ModelCopy.Node(node);
            fused.Outputs.Clear();
            fused.Outputs.AddRange(split.Outputs);
            if (!graph.CanRun(fused)) continue;

            graph.Replace([node, split], fused);
            graph.Log($"{node} + {split} → QuantizedMatMul with {split.Outputs.Count} outputs");
            changed = true;
        }

        return changed;
    }

    // The weight's width for a single-output QuantizedMatMul by a constant 2-D weight with no activation and no sum.
    private static int? Width(GraphEditor graph, OnnxNode node)
    {
        if (node.Domain != TesseraDomain.Name || node.OpType != "QuantizedMatMul" || node.Outputs.Count != 1 || node.Inputs.Count is < 4 or > 7) return null;
        if (node.Attributes.ContainsKey("activation")) return null;
        return graph.Constant(node.Inputs[3]) is { Rank: 2 } w ? w.Shape[1] : null;
    }

    // Split along the product's last axis into parts of one width that is a multiple of the tile, each output named.
    private static bool SplitsLastAxisEvenly(GraphEditor graph, OnnxNode split, string x, int width)
    {
        int parts = split.Outputs.Count;
        if (parts < 2 || split.Outputs.Any(o => o.Length == 0) || width % parts != 0 || (width / parts) % TileColumns != 0) return false;

        long axis = split.Attributes.TryGetValue("axis", out var a) ? a.Int : 0;
        // The product has X's rank.
        if (axis != -1 && ((graph.Rank(split.Inputs[0]) ?? graph.Rank(x)) is not { } rank || axis != rank - 1)) return false;

        // Sizes from the 'split' input (opset 13 on) or attribute (before), or none: equal parts (num_outputs of
        // opset 18 rounds the parts up, equal here as the width divides evenly).
        long[]? sizes = split.Inputs.Count > 1 && split.Inputs[1].Length > 0
            ? graph.Constant(split.Inputs[1]) is { DataType: DataType.Int64 } t ? t.ToArray<long>() : null
            : split.Attributes.TryGetValue("split", out var s) ? s.Ints : [];
        return sizes is not null && (sizes.Length == 0 || (sizes.Length == parts && sizes.All(size => size == width / parts)));
    }
}
