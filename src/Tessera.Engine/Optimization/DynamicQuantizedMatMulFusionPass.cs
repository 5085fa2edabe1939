using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// The dynamic quantization chain (as ONNX Runtime's quantize_dynamic and `tessera quantize` write it):
/// DynamicQuantizeLinear(x) → MatMulInteger(x_q, constant W, x_zero_point, w_zero_point) → Cast(float) →
/// Mul(·, Mul(x_scale, constant w_scale)) [→ Add(constant bias)] → com.tessera QuantizedMatMul(x, dynamic=1), which
/// finds x's range, quantizes x while packing it and dequantizes (plus bias) in the GEMM's epilogue. The
/// DynamicQuantizeLinear stays while other products read it.
/// </summary>
internal sealed class DynamicQuantizedMatMulFusionPass : IGraphPass
{
    public string Name => "dynamic-quantized-matmul-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        if (!graph.Registry.Supports(TesseraDomain.Name, "QuantizedMatMul", TesseraDomain.Version)) return false;
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || !GraphEditor.IsOp(product, "MatMulInteger") || product.Inputs.Count < 3) continue;
            if (graph.Producer(product.Inputs[0]) is not { } dql || !GraphEditor.IsOp(dql, "DynamicQuantizeLinear") || dql.Outputs.Count < 3) continue;
            if (dql.Outputs[0] != product.Inputs[0] || dql.Outputs[2] != product.Inputs[2]) continue;
            if (graph.Constant(product.Inputs[1]) is not { Rank: 2 } weight) continue;
            string weightZero = product.Inputs.Count > 3 ? product.Inputs[3] : string.Empty;
            if (weightZero.Length > 0 && graph.Constant(weightZero) is null) continue;

            if (graph.SoleConsumer(product.Outputs[0]) is not { } cast || !GraphEditor.IsOp(cast, "Cast")
                || !cast.Attributes.TryGetValue("to", out var to) || to.Int != (long)DataType.Float32) continue;
            if (graph.SoleConsumer(cast.Outputs[0]) is not { } mul || !GraphEditor.IsOp(mul, "Mul")) continue;
            if (GraphEditor.OtherInput(mul, cast.Outputs[0]) is not { } scales || WeightScale(graph, scales, dql.Outputs[1]) is not { } weightScale) continue;

            int n = weight.Shape[1];
            var removed = new List<OnnxNode> { product, cast, mul };
            string output = mul.Outputs[0];
            string bias = string.Empty;
            if (graph.SoleConsumer(output) is { } add && GraphEditor.IsOp(add, "Add") && GraphEditor.OtherInput(add, output) is { } c
                && graph.Constant(c) is { DataType: DataType.Float32 } addend && addend.Length == n && addend.Shape[^1] == n
                && (addend.Rank == 1 || addend.Rank <= (graph.Rank(output) ?? graph.Rank(dql.Inputs[0]) ?? 0)))
            {
                bias = addend.Rank == 1 ? c : graph.AddInitializer(c, addend.Reshape([n]));
                removed.Add(add);
                output = add.Outputs[0];
            }

            var fused = GraphEditor.NewNode("QuantizedMatMul", TesseraDomain.Name, product.Name,
                [dql.Inputs[0], string.Empty, string.Empty, product.Inputs[1], weightScale, weightZero, bias], [output]);
            fused.Attributes["dynamic"] = new NodeAttribute { Name = "dynamic", Kind = AttributeKind.Int, Int = 1 };
            graph.UseTesseraDomain();
            if (!graph.CanRun(fused)) continue;
            graph.Replace(removed, fused);
            graph.Log($"{dql} → {product} → {cast} → {mul}{(removed.Count > 3 ? " + bias" : string.Empty)} → QuantizedMatMul");
            changed = true;
        }

        return changed;
    }

    // The product's scales: Mul(x_scale, constant w_scale) in either order; returns w_scale's name.
    private static string? WeightScale(GraphEditor graph, string scales, string activationScale)
    {
        if (graph.Producer(scales) is not { } mul || !GraphEditor.IsOp(mul, "Mul")) return null;
        if (GraphEditor.OtherInput(mul, activationScale) is not { } w) return null;
        return graph.Constant(w) is { DataType: DataType.Float32, Rank: <= 1 } ? w : null;
    }
}
