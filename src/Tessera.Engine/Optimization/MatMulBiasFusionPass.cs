using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// MatMul(A, B) + bias → com.tessera FusedMatMul(A, B, bias) when B is 2-D with N columns and the bias is a
/// float32 constant of N values over the last axis ([N] or [1,…,1,N] of no higher rank than the product).
/// The transformer projections of BERT and GPT have this form with 3-D activations, which Gemm cannot take.
/// </summary>
internal sealed class MatMulBiasFusionPass : IGraphPass
{
    public string Name => "matmul-bias-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        if (!graph.Registry.Supports(TesseraDomain.Name, "FusedMatMul", TesseraDomain.Version)) return false;
        bool changed = false;
        foreach (var matmul in graph.Nodes.ToList())
        {
            if (!graph.IsLive(matmul) || !GraphEditor.IsOp(matmul, "MatMul") || matmul.Outputs.Count != 1) continue;
            string y = matmul.Outputs[0];
            if (graph.Shape(matmul.Inputs[1]) is not { Length: 2 } shapeB || shapeB[1].Value is not long n) continue;
            if (graph.SoleConsumer(y) is not { } add || !GraphEditor.IsOp(add, "Add")) continue;
            if (GraphEditor.OtherInput(add, y) is not { } c || graph.Constant(c) is not { DataType: DataType.Float32 } bias) continue;
            bool overLastAxis = bias.Rank >= 1 && bias.Shape[^1] == n && bias.Length == n;
            if (!overLastAxis || (bias.Rank > 1 && !(graph.Rank(y) >= bias.Rank))) continue;

            string biasName = bias.Rank == 1 ? c : graph.AddInitializer(c, bias.Reshape([(int)n]));
            var fused = GraphEditor.NewNode("FusedMatMul", TesseraDomain.Name, matmul.Name, [matmul.Inputs[0], matmul.Inputs[1], biasName], [add.Outputs[0]]);
            if (!graph.CanRun(fused)) continue;
            graph.UseTesseraDomain();
            graph.Replace([matmul, add], fused);
            graph.Log($"{matmul} + {add} → FusedMatMul");
            changed = true;
        }

        return changed;
    }
}
