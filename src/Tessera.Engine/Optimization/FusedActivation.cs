using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// An activation node read as the `activation` and `activation_params` attributes of com.tessera's fused
/// operators: Relu, LeakyRelu [alpha], Clip [min, max], HardSigmoid [alpha, beta], HardSwish, Sigmoid, Tanh,
/// Gelu (erf) and GeluTanh (tanh approximation).
/// </summary>
internal sealed record FusedActivation(string Name, float[] Parameters)
{
    public static FusedActivation? Of(GraphEditor graph, OnnxNode node)
    {
        if (node.Inputs.Count == 0 || node.Outputs.Count != 1) return null;
        bool standard = OnnxNode.NormalizeDomain(node.Domain).Length == 0;
        bool tessera = node.Domain == TesseraDomain.Name;
        if (!standard && !tessera) return null;
        return node.OpType switch
        {
            "Relu" or "Sigmoid" or "Tanh" when standard => new(node.OpType, []),
            "HardSwish" => new("HardSwish", []),
            "LeakyRelu" when standard => new("LeakyRelu", [Float(node, "alpha", 0.01f)]),
            "HardSigmoid" when standard => new("HardSigmoid", [Float(node, "alpha", 0.2f), Float(node, "beta", 0.5f)]),
            "Clip" when standard => ClipOf(graph, node),
            "Gelu" => Approximation(node) switch
            {
                "none" => new("Gelu", []),
                "tanh" => new("GeluTanh", []),
                _ => null,
            },
            _ => null,
        };
    }

    public void AddTo(OnnxNode node)
    {
        node.Attributes["activation"] = new NodeAttribute { Name = "activation", Kind = AttributeKind.String, String = Name };
        if (Parameters.Length > 0)
        {
            node.Attributes["activation_params"] = new NodeAttribute { Name = "activation_params", Kind = AttributeKind.Floats, Floats = Parameters };
        }
    }

    public override string ToString() => Parameters.Length == 0 ? Name : $"{Name}({string.Join(", ", Parameters)})";

    // Clip's bounds are attributes before opset 11 and optional inputs from then on; only constant bounds fuse.
    private static FusedActivation? ClipOf(GraphEditor graph, OnnxNode node)
    {
        float min = Float(node, "min", float.NegativeInfinity), max = Float(node, "max", float.PositiveInfinity);
        for (int i = 1; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i].Length == 0) continue;
            if (!graph.TryScalar(node.Inputs[i], out float bound)) return null;
            if (i == 1) min = bound;
            else max = bound;
        }

        return new("Clip", [min, max]);
    }

    private static float Float(OnnxNode node, string name, float fallback) =>
        node.Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    private static string Approximation(OnnxNode node) =>
        node.Attributes.TryGetValue("approximate", out var a) ? a.String : "none";
}
