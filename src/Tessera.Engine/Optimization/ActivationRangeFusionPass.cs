using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A dynamic weight QuantizedMatMul whose X is the output of a weight QuantizedMatMul with a fused activation (BERT's
/// and GPT's down-projection after the GELU of the up-projection) → the first also writes Y's range (attribute
/// y_range=1, second output: each row's min and max taken after the activation while the row is in cache, merged) and
/// the second reads it as input 8 "x_range" instead of passing over X for it: that pass read the largest activation
/// of the layer (BERT b8 s128: 1024 x 512 floats, 2 MB, past L2) before the product could start. The same min and max,
/// so the same scale, zero point and bits; a NaN or infinity in X makes the range non-finite and the product falls
/// back to the pass.
/// </summary>
internal sealed class ActivationRangeFusionPass : IGraphPass
{
    public string Name => "activation-range-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || !IsWeightProduct(graph, product)) continue;
            if (product.Inputs.Count > 8 || !product.Attributes.TryGetValue("dynamic", out var dynamic) || dynamic.Int != 1) continue;
            if (graph.Producer(product.Inputs[0]) is not { } source || !IsWeightProduct(graph, source) || source.Outputs[0] != product.Inputs[0]) continue;
            if (!source.Attributes.ContainsKey("activation") || source.Attributes.Keys.Any(k => k is "x_perm" or "w_perm" or "y_perm")) continue;

            var ranged = source;
            if (source.Outputs.Count == 1)
            {
                ranged = ModelCopy.Node(source);
                ranged.Attributes["y_range"] = new NodeAttribute { Name = "y_range", Kind = AttributeKind.Int, Int = 1 };
                ranged.Outputs.Add(graph.UniqueName(source.Outputs[0] + "_range"));
                if (!graph.CanRun(ranged)) continue;
            }
            else if (!source.Attributes.TryGetValue("y_range", out var yRange) || yRange.Int != 1)
            {
                continue;
            }

            var reading = ModelCopy.Node(product);
            while (reading.Inputs.Count < 8) reading.Inputs.Add(string.Empty);
            reading.Inputs.Add(ranged.Outputs[1]);
            if (!graph.CanRun(reading)) continue;

            if (ranged != source) graph.Replace([source], ranged);
            graph.Replace([product], reading);
            graph.Log($"{source} → {product}: X's range from the activation");
            changed = true;
        }

        return changed;
    }

    // A com.tessera QuantizedMatMul by a constant W (QuantizedMatMulKernel).
    private static bool IsWeightProduct(GraphEditor graph, OnnxNode node) =>
        node.Domain == TesseraDomain.Name && node.OpType == "QuantizedMatMul" && node.Inputs.Count >= 4 && graph.Constant(node.Inputs[3]) is not null;
}
