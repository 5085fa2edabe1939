using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A QuantizedMatMul of two activations (dynamic=1, W not constant: an int8 attention's Q·Kᵀ and P·V) whose X or W is a
/// part of a weight QuantizedMatMul of several outputs (the Q/K/V projection made by shared-input-quantized-matmul-fusion
/// or quantized-matmul-split-fusion), directly or through ops that only move values (Reshape, Transpose, Squeeze,
/// Unsqueeze, Flatten, Identity) → the projection also writes each part's range (attribute part_ranges=1: its epilogue
/// keeps every tile's min and max as it stores it) and the attention product reads it as input 8 (X) or 9 (W) instead of
/// passing over the part for it: Q, K and V were a pass each per layer (BERT b8 s128: 3 x 128 K floats) before the
/// products could start. The same values, so the same scale and zero point and the same bits; a non-finite range (a
/// scale or bias that is not finite) falls back to the pass in the product.
/// </summary>
internal sealed class QuantizedMatMulRangeFusionPass : IGraphPass
{
    // The reader's inputs for X's and W's ranges, by the operand they describe.
    private static readonly (int Operand, int Range)[] s_operands = [(0, 8), (3, 9)];

    public string Name => "quantized-matmul-range-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || !IsActivationProduct(graph, product)) continue;
            var reader = product;
            foreach (var (operand, rangeInput) in s_operands)
            {
                if (reader.Inputs.Count > rangeInput && reader.Inputs[rangeInput].Length > 0) continue;
                if (Projection(graph, reader.Inputs[operand]) is not { } source) continue;
                if (Ranged(graph, source.Node) is not { } ranged) continue;

                var reading = ModelCopy.Node(reader);
                while (reading.Inputs.Count < rangeInput) reading.Inputs.Add(string.Empty);
                reading.Inputs.Add(ranged.Outputs[(ranged.Outputs.Count / 2) + source.Part]);
                if (!graph.CanRun(reading)) continue;

                if (ranged != source.Node) graph.Replace([source.Node], ranged);
                graph.Replace([reader], reading);
                reader = reading;
                graph.Log($"{source.Node} → {product}: {(operand == 0 ? "X" : "W")}'s range from the projection's epilogue");
                changed = true;
            }
        }

        return changed;
    }

    private static bool IsActivationProduct(GraphEditor graph, OnnxNode node) =>
        node.Domain == TesseraDomain.Name && node.OpType == "QuantizedMatMul" && node.Inputs.Count >= 4 && node.Outputs.Count == 1
        && node.Attributes.TryGetValue("dynamic", out var dynamic) && dynamic.Int == 1 && graph.Constant(node.Inputs[3]) is null;

    // The weight QuantizedMatMul of several outputs whose part the value is, after ops that only move values.
    private static (OnnxNode Node, int Part)? Projection(GraphEditor graph, string value)
    {
        var node = graph.Producer(value);
        while (node is not null && node.Domain is "" or "ai.onnx" && node.OpType is "Reshape" or "Transpose" or "Squeeze" or "Unsqueeze" or "Flatten" or "Identity")
        {
            value = node.Inputs[0];
            node = graph.Producer(value);
        }

        if (node is null || node.Domain != TesseraDomain.Name || node.OpType != "QuantizedMatMul" || graph.Constant(node.Inputs[3]) is null) return null;
        bool ranged = node.Attributes.TryGetValue("part_ranges", out var r) && r.Int != 0;
        int parts = ranged ? node.Outputs.Count / 2 : node.Outputs.Count;
        int part = node.Outputs.IndexOf(value);
        return parts > 1 && part >= 0 && part < parts ? (node, part) : null;
    }

    // The projection writing its parts' ranges: itself when it already does, otherwise a copy that does, or null when
    // its kernel refuses (an activation, a sum).
    private static OnnxNode? Ranged(GraphEditor graph, OnnxNode projection)
    {
        if (projection.Attributes.ContainsKey("part_ranges")) return projection;
        var ranged = ModelCopy.Node(projection);
        ranged.Attributes["part_ranges"] = new NodeAttribute { Name = "part_ranges", Kind = AttributeKind.Int, Int = 1 };
        foreach (var part in projection.Outputs) ranged.Outputs.Add(graph.UniqueName(part + "_range"));
        return graph.CanRun(ranged) ? ranged : null;
    }
}
