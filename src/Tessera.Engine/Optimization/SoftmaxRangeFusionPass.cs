using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A QuantizedMatMul that quantizes an activation X (dynamic=1, W not constant) where X is a FusedScaleMaskSoftmax's
/// output (an int8 attention's P·V) → the softmax also writes its range (second output: 0 and the largest reciprocal
/// row sum, known as it normalises the rows) and the product reads it as input 8 instead of passing over X for it:
/// X's min and max were a pass over the largest activation of the attention (BERT b8 s128: 512 K floats per layer,
/// 8 x 4 x 128 x 128) before the product could start. The same scale and zero point, so the same bits.
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

            if (ranged != softmax) graph.Replace([softmax], ranged);
            graph.Replace([product], reading);
            graph.Log($"{softmax} → {product}: X's range from the softmax");
            changed = true;
        }

        return changed;
    }
}
