using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A product whose only reader is an Add of a value of exactly the output's shape (a residual branch) → the same product
/// with that value as its "sum" input, so the sum is added while the product writes its output instead of in another
/// pass over memory: Conv (or a FusedConv without activation) → com.tessera FusedConv with it as fourth input; a
/// com.tessera QuantizedMatMul with a constant weight and no activation gains it as eighth input (BERT's and GPT's
/// attention-output and down projections), whatever the shapes: its kernel adds a sum of another shape as Add
/// broadcasts, and transformers' residual shapes are symbolic, not provably equal here. Runs before activation fusion,
/// which then folds a following Relu into the same node: Y = act(product + bias + sum).
/// </summary>
internal sealed class ResidualAddFusionPass : IGraphPass
{
    public string Name => "residual-add-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || node.Outputs.Count != 1 || Fused(graph, node) is not { } fused) continue;
            string output = node.Outputs[0];
            if (graph.ElementType(output) != DataType.Float32 && graph.ElementType(node.Inputs[0]) != DataType.Float32) continue;
            if (!GraphEditor.IsOp(graph.SoleConsumer(output), "Add")) continue;
            var add = graph.SoleConsumer(output)!;
            if (GraphEditor.OtherInput(add, output) is not { } sum || sum == output) continue;
            if (fused.OpType == "FusedConv" && (!SameKnownShape(graph, sum, output) || OtherTakesIt(graph, node, sum, add))) continue;
            if (!graph.Registry.Supports(TesseraDomain.Name, fused.OpType, TesseraDomain.Version)) continue;

            fused.Inputs.Add(sum);
            fused.Outputs[0] = add.Outputs[0];
            graph.UseTesseraDomain();
            if (!graph.CanRun(fused)) continue;

            graph.Replace([node, add], fused);
            graph.Log($"{node} + {add} → {fused.OpType} with sum '{sum}'");
            changed = true;
        }

        return changed;
    }

    // The fused node without its sum yet (inputs padded up to where the sum goes), or null when the node takes none.
    private static OnnxNode? Fused(GraphEditor graph, OnnxNode node)
    {
        bool conv = node.Inputs.Count is 2 or 3 && (GraphEditor.IsOp(node, "Conv")
            || (node.Domain == TesseraDomain.Name && node.OpType == "FusedConv" && !node.Attributes.ContainsKey("activation")));
        bool quantized = node.Domain == TesseraDomain.Name && node.OpType == "QuantizedMatMul" && node.Inputs.Count is >= 4 and <= 7
            && !node.Attributes.ContainsKey("activation") && graph.Constant(node.Inputs[3]) is not null;
        if (!conv && !quantized) return null;

        var fused = ModelCopy.Node(node);
        fused.OpType = conv ? "FusedConv" : "QuantizedMatMul";
        fused.Domain = TesseraDomain.Name;
        while (fused.Inputs.Count < (conv ? 3 : 7)) fused.Inputs.Add(string.Empty);
        return fused;
    }

    /// <summary>
    /// Whether the Add's other input is a convolution that could take it too and has more depth per output (a ResNet
    /// block's 3x3 main branch against its 1x1 shortcut): the Add goes there, so its channel-blocked kernel writes the
    /// block's output and may keep it channel-blocked for the next block (channel-block-layout). Either way the sum is
    /// added once, after the product and its bias, and x + y == y + x in floating point.
    /// </summary>
    private static bool OtherTakesIt(GraphEditor graph, OnnxNode node, string sum, OnnxNode add) =>
        graph.Producer(sum) is { Outputs.Count: 1 } other && graph.SoleConsumer(sum) == add && Fused(graph, other) is { OpType: "FusedConv" }
        && Depth(graph, other) > Depth(graph, node);

    /// <summary>A convolution's multiply-adds per output (W's elements per output channel); 0 when W's shape is not known.</summary>
    private static long Depth(GraphEditor graph, OnnxNode conv)
    {
        var w = graph.Shape(conv.Inputs[1]);
        return w is { Length: > 1 } && w.All(d => d.Value is > 0) ? w.Skip(1).Aggregate(1L, (p, d) => p * d.Value!.Value) : 0;
    }

    // Add broadcasts; FusedConv adds element by element, so both shapes must be the same and fully known.
    private static bool SameKnownShape(GraphEditor graph, string a, string b)
    {
        var sa = graph.Shape(a);
        var sb = graph.Shape(b);
        if (sa is null || sb is null || sa.Length != sb.Length) return false;
        for (int d = 0; d < sa.Length; d++)
        {
            if (!sa[d].Equals(sb[d]) || (sa[d].Value is null && string.IsNullOrEmpty(sa[d].Symbol))) return false;
        }

        return true;
    }
}
