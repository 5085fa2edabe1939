using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A QuantizedMatMul that quantizes an activation X (dynamic=1, W not constant) where X is a FusedScaleMaskSoftmax's
/// output (an int8 attention's P·V) → the softmax also writes its range (second output: 0 and the largest reciprocal
/// row sum, known as it normalises the rows) and the product reads it as input 8 instead of passing over X for it:
/// X's min and max were a pass over the largest activation of the attention (BERT b8 s128: 512 K floats per layer,
/// 8 x 4 x 128 x 128) before the product could start. The same scale and zero point, so the same bits.
/// When the product is P's only reader and reads P's rows as they lie (no x_perm), the softmax also leaves P
/// unnormalised (normalize = 0) and writes each row's reciprocal sum as a third output, which the product reads as
/// input 11 "x_row_scale" and multiplies in while quantizing: the softmax's pass scaling every row goes, and the
/// values quantized are the same products, so the same bits.
/// </summary>
internal sealed class SoftmaxRangeFusionPass : IGraphPass
{
    public string Name => "softmax-range-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || product.Domain != TesseraDomain.Name || product.OpType != "QuantizedMatMul") continue;
            if (product.Inputs.Count is < 4 or > 8 || (product.Inputs.Count == 8 && product.Inputs[7].Length > 0)) continue;
            if (!product.Attributes.TryGetValue("dynamic", out var dynamic) || dynamic.Int != 1 || graph.Constant(product.Inputs[3]) is not null) continue;
            if (graph.Producer(product.Inputs[0]) is not { } softmax || softmax.Domain != TesseraDomain.Name || softmax.OpType != "FusedScaleMaskSoftmax") continue;
            if (softmax.Outputs[0] != product.Inputs[0]) continue;

            var ranged = softmax;
            if (softmax.Outputs.Count == 1)
            {
                ranged = ModelCopy.Node(softmax);
                ranged.Outputs.Add(graph.UniqueName(softmax.Outputs[0] + "_range"));
                if (!graph.CanRun(ranged)) continue;
            }

            var reading = ModelCopy.Node(product);
            while (reading.Inputs.Count < 8) reading.Inputs.Add(string.Empty);
            reading.Inputs.Add(ranged.Outputs[1]);
            if (!graph.CanRun(reading)) continue;
            bool unnormalised = LeaveUnnormalised(graph, softmax, product, ref ranged, reading);

            if (ranged != softmax) graph.Replace([softmax], ranged);
            graph.Replace([product], reading);
            graph.Log($"{softmax} → {product}: X's range{(unnormalised ? " and rows' factors" : string.Empty)} from the softmax");
            changed = true;
        }

        return changed;
    }

    // The softmax's normalisation moved into the product (see the summary), when P has no other reader, is not a graph
    // output, and the product reads its rows contiguously; both nodes are rewritten in place of the copies.
    private static bool LeaveUnnormalised(GraphEditor graph, OnnxNode softmax, OnnxNode product, ref OnnxNode ranged, OnnxNode reading)
    {
        if (ranged.Outputs.Count != 2 || product.Attributes.ContainsKey("x_perm") || graph.IsPinned(softmax.Outputs[0])) return false;
        if (!graph.Consumers(softmax.Outputs[0]).All(reader => reader == product || Unread(graph, reader))) return false;
        if (product.Inputs.Count(i => i == softmax.Outputs[0]) != 1) return false;
        var unnormalised = ranged == softmax ? ModelCopy.Node(softmax) : ranged;
        unnormalised.Attributes["normalize"] = new NodeAttribute { Name = "normalize", Kind = AttributeKind.Int, Int = 0 };
        unnormalised.Outputs.Add(graph.UniqueName(softmax.Outputs[0] + "_row_scale"));
        while (reading.Inputs.Count < 11) reading.Inputs.Add(string.Empty);
        reading.Inputs.Add(unnormalised.Outputs[2]);
        if (!graph.CanRun(unnormalised) || !graph.CanRun(reading))
        {
            reading.Inputs.RemoveRange(9, reading.Inputs.Count - 9);
            return false;
        }

        ranged = unnormalised;
        return true;
    }

    // A node whose outputs nothing live reads (unpinned, read only by such nodes, a few levels deep): the
    // DynamicQuantizeLinear of P the fused product replaced and the Mul of its scale, which dead-node elimination
    // removes later (they would read P's unnormalised values, but nothing reads what they make).
    private static bool Unread(GraphEditor graph, OnnxNode node, int depth = 3) =>
        depth > 0 && node.Outputs.All(o => o.Length == 0 || (!graph.IsPinned(o) && graph.Consumers(o).All(c => Unread(graph, c, depth - 1))));
}
