using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>
/// Rewrites a float model into standard ONNX 8-bit quantization (no vendor domain, so ONNX Runtime runs it too):
/// int8 symmetric weights, and activations either quantized at run time (dynamic: DynamicQuantizeLinear →
/// MatMulInteger/ConvInteger → Cast → Mul by the product of scales [→ Add bias]) or calibrated (static: QuantizeLinear →
/// DequantizeLinear pairs on activations, DequantizeLinear on weights and int32 biases); in dynamic mode a MatMul of
/// two activations gets a DynamicQuantizeLinear on each input (<see cref="QuantizationOptions.ActivationMatMuls"/>).
/// Gather tables are stored as int8 behind a DequantizeLinear in both modes. Tessera's optimizer fuses both forms into
/// its integer kernels.
/// </summary>
public static class ModelQuantizer
{
    public static OnnxModel Quantize(OnnxModel model, QuantizationOptions options, TextWriter? progress = null)
    {
        int opset = model.DefaultOpset;
        int needed = options.PerChannel || options.Mode == QuantizationMode.Static ? 13 : 11;
        if (opset < needed)
        {
            throw new QuantizationException($"the model's opset {opset} is below {needed}, which {options.Mode.ToString().ToLowerInvariant()} quantization{(options.PerChannel ? " per channel" : string.Empty)} needs");
        }

        var unknown = options.Operators.Where(o => !QuantizationOptions.SupportedOperators.Contains(o)).ToList();
        if (unknown.Count > 0)
        {
            throw new QuantizationException($"cannot quantize {string.Join(", ", unknown)} (supported: {string.Join(", ", QuantizationOptions.SupportedOperators)})");
        }

        var missing = options.Excluded.Where(e => model.Graph.Nodes.All(n => n.Name != e)).ToList();
        if (missing.Count > 0) throw new QuantizationException($"--exclude names no node of the model: {string.Join(", ", missing)}");

        var copy = ModelCopy.Of(model);
        var targets = copy.Graph.Nodes
            .Where(n => options.Operators.Contains(n.OpType) && !options.Excluded.Contains(n.Name))
            .Select(n => QuantizationTarget.For(n, copy.Graph))
            .OfType<QuantizationTarget>()
            .ToDictionary(t => t.Node);
        var activationProducts = options.Mode == QuantizationMode.Dynamic && options.ActivationMatMuls && options.Operators.Contains("MatMul")
            ? ActivationProducts(copy, options.Excluded)
            : [];
        if (targets.Count + activationProducts.Count == 0) throw new QuantizationException("no node to quantize: no MatMul, Gemm, Conv or Gather with a constant float weight among the chosen operators");

        var activations = targets.Values.Where(t => t.Node.OpType != "Gather").Select(t => t.Node.Inputs[0]).Distinct().ToList();
        var ranges = options.Mode == QuantizationMode.Static ? ActivationRanges.Collect(model, activations, options.Calibration, progress) : null;
        var graph = new QuantizedGraph(copy);
        var rewrite = new TargetRewriter(graph, options.PerChannel, ranges, options.ReduceRange ? WeightQuantizer.ReducedLimit : WeightQuantizer.FullLimit);
        foreach (var node in copy.Graph.Nodes)
        {
            if (targets.TryGetValue(node, out var target))
            {
                rewrite.Rewrite(target);
            }
            else if (activationProducts.Contains(node))
            {
                rewrite.DynamicActivations(node);
            }
            else
            {
                graph.Nodes.Add(node);
            }
        }

        copy.Graph.Nodes.Clear();
        copy.Graph.Nodes.AddRange(graph.Nodes);
        PruneInitializers(copy.Graph);
        string between = activationProducts.Count == 0 ? string.Empty : $", {activationProducts.Count} MatMul of two activations";
        progress?.WriteLine($"tessera: quantized {targets.Count + activationProducts.Count} nodes ({string.Join(", ", targets.Keys.GroupBy(n => n.OpType).Select(g => $"{g.Count()} {g.Key}"))}{between}), {options.Mode.ToString().ToLowerInvariant()}{(options.PerChannel ? ", per channel" : string.Empty)}{(options.ReduceRange ? ", 7-bit weights (reduce range)" : string.Empty)}");
        return copy;
    }

    // MatMuls of two activations (neither input an initializer) that shape inference on a copy does not find to be other
    // than float32: through an exporter's Reshape to a computed shape it often finds no type at all.
    private static HashSet<OnnxNode> ActivationProducts(OnnxModel model, IReadOnlySet<string> excluded)
    {
        var typed = ModelCopy.Of(model);
        ShapeInference.Infer(typed);
        bool IsFloatActivation(string name) =>
            !model.Graph.Initializers.ContainsKey(name) && typed.Graph.FindValueInfo(name)?.ElementType is null or DataType.Undefined or DataType.Float32;
        return model.Graph.Nodes
            .Where(n => n.OpType == "MatMul" && n.Domain is "" or "ai.onnx" && !excluded.Contains(n.Name) && n.Inputs.Count == 2 && n.Inputs.All(IsFloatActivation))
            .ToHashSet();
    }

    private static void PruneInitializers(OnnxGraph graph)
    {
        var read = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        read.UnionWith(graph.Outputs.Select(o => o.Name));
        foreach (string name in graph.Initializers.Keys.ToList())
        {
            if (!read.Contains(name) && !graph.OverridableInitializers.Contains(name)) graph.Initializers.Remove(name);
        }
    }
}
