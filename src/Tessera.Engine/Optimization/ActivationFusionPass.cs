using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Conv, Gemm or MatMul (plain or already fused with a bias) followed by an activation → com.tessera FusedConv,
/// FusedGemm or FusedMatMul with that activation (a com.tessera QuantizedMatMul keeps its name and gains the
/// attribute), when nothing else reads the pre-activation value. Skipped for
/// an operator or activation the registry's fused kernels do not take.
/// </summary>
internal sealed class ActivationFusionPass : IGraphPass
{
    public string Name => "activation-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || FusedName(node) is not { } fusedName || node.Outputs.Count != 1) continue;
            if (!graph.Registry.Supports(TesseraDomain.Name, fusedName, TesseraDomain.Version)) continue;
            if (graph.ElementType(node.Outputs[0]) != DataType.Float32 && graph.ElementType(node.Inputs[1]) != DataType.Float32) continue;
            if (graph.SoleConsumer(node.Outputs[0]) is not { } next || next.Inputs[0] != node.Outputs[0]) continue;
            if (FusedActivation.Of(graph, next) is not { } activation) continue;

            var fused = ModelCopy.Node(node);
            fused.OpType = fusedName;
            fused.Domain = TesseraDomain.Name;
            fused.Outputs[0] = next.Outputs[0];
            activation.AddTo(fused);
            if (!graph.CanRun(fused)) continue;

            graph.UseTesseraDomain();
            graph.Replace([node, next], fused);
            graph.Log($"{node} + {next} → {fusedName} with {activation}");
            changed = true;
        }

        return changed;
    }

    private static string? FusedName(OnnxNode node)
    {
        if (node.Domain == TesseraDomain.Name)
        {
            bool fusable = node.OpType is "FusedConv" or "FusedGemm" or "FusedMatMul" or "QuantizedMatMul" && !node.Attributes.ContainsKey("activation");
            return fusable ? node.OpType : null;
        }

        if (node.Inputs.Count < 2 || OnnxNode.NormalizeDomain(node.Domain).Length > 0) return null;
        return node.OpType switch
        {
            "Conv" => "FusedConv",
            "Gemm" => "FusedGemm",
            "MatMul" => "FusedMatMul",
            _ => null,
        };
    }
}
