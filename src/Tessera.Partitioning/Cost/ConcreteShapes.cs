using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Tensors;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// Element types and concrete shapes of every value of an optimised model for given input shapes. Shape inference
/// has no rules for com.tessera operators, so it runs on a shadow copy where each fused operator is replaced by
/// the standard operator with the same output shape (FusedConv → Conv, ..., a tensor-parallel shard's AllReduce →
/// Identity and AllGather → Concat of T copies); values it still cannot tell are
/// taken from the original model's inference under the same names (fusions keep their last output's name).
/// </summary>
internal sealed class ConcreteShapes
{
    private readonly Dictionary<string, (DataType Type, int[]? Shape)> _values = new(StringComparer.Ordinal);

    public ConcreteShapes(OnnxModel optimized, OnnxModel original, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        var shadow = Shadow(optimized, rename: true);
        var reference = Shadow(original, rename: false);
        Infer(reference, inputShapes);
        Infer(shadow, inputShapes);
        Collect(reference.Graph, inputShapes);
        Collect(shadow.Graph, inputShapes);
    }

    public DataType TypeOf(string name) => _values.TryGetValue(name, out var v) ? v.Type : DataType.Undefined;

    public int[]? ShapeOf(string name) => _values.TryGetValue(name, out var v) ? v.Shape : null;

    /// <summary>Bytes of the value, or null when its shape or type is unknown.</summary>
    public long? BytesOf(string name)
    {
        if (!_values.TryGetValue(name, out var v) || v.Shape is null) return null;
        long elements = 1;
        foreach (int d in v.Shape) elements *= d;
        return elements * DataTypes.SizeOf(v.Type);
    }

    private static void Infer(OnnxModel model, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        try
        {
            ShapeInference.Infer(model, inputShapes);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or OverflowException)
        {
            // Inference is best effort: values it cannot tell count as unknown in the analysis.
        }
    }

    // Later sources override earlier ones only where they know more (a concrete shape).
    private void Collect(OnnxGraph graph, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        foreach (var (name, tensor) in graph.Initializers) Set(name, tensor.DataType, tensor.Shape);
        foreach (var input in graph.Inputs)
        {
            Set(input.Name, input.ElementType, inputShapes.TryGetValue(input.Name, out var s) ? s : Known(input));
        }

        foreach (var info in graph.ValueInfos.Values.Concat(graph.Outputs)) Set(info.Name, info.ElementType, Known(info));
        foreach (var node in graph.Nodes.Where(n => n.OpType == "Constant" && n.Attributes.TryGetValue("value", out _)))
        {
            if (node.Attributes["value"].Tensor is { } t) Set(node.Outputs[0], t.DataType, t.Shape);
        }
    }

    private void Set(string name, DataType type, int[]? shape)
    {
        if (_values.TryGetValue(name, out var old))
        {
            type = type == DataType.Undefined ? old.Type : type;
            shape ??= old.Shape;
        }

        _values[name] = (type, shape);
    }

    private static int[]? Known(ValueInfo info) =>
        info.HasFullyKnownShape ? info.Shape!.Select(d => checked((int)d.Value!.Value)).ToArray() : null;

    private static OnnxModel Shadow(OnnxModel model, bool rename)
    {
        var g = model.Graph;
        var graph = new OnnxGraph
        {
            Name = g.Name,
            Nodes = g.Nodes.SelectMany(n => ShadowNodes(n, rename, Degree(model))).ToList(),
            Initializers = new Dictionary<string, Tensor>(g.Initializers, StringComparer.Ordinal),
            OverridableInitializers = new HashSet<string>(g.OverridableInitializers, StringComparer.Ordinal),
            Inputs = g.Inputs.Select(Copy).ToList(),
            Outputs = g.Outputs.Select(Copy).ToList(),
        };
        return new OnnxModel { OpsetImports = new Dictionary<string, long>(model.OpsetImports, StringComparer.Ordinal), Graph = graph };
    }

    // A tensor-parallel shard records its degree; an AllGather's output is its input T times along its axis.
    private static int Degree(OnnxModel model) =>
        model.Metadata.TryGetValue("tessera.tensor_parallel.degree", out string? text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int degree) && degree > 0 ? degree : 1;

    // A QuantizedMatMul that reads or writes through a transpose (x_perm, w_perm, y_perm): the Transposes it folded
    // back around the MatMul, so inference sees the product's real shapes. The values between are named after the
    // product's output, which is unique in the graph (node names may be empty or repeated).
    private static IEnumerable<OnnxNode> ShadowNodes(OnnxNode node, bool rename, int degree)
    {
        if (!rename || node.OpType != "QuantizedMatMul" || !node.Attributes.Keys.Any(k => k is "x_perm" or "w_perm" or "y_perm"))
        {
            yield return ShadowNode(node, rename, degree);
            yield break;
        }

        var product = ShadowNode(node, rename, degree);
        foreach (var (input, name) in new[] { (0, "x_perm"), (1, "w_perm") })
        {
            if (!node.Attributes.TryGetValue(name, out var perm)) continue;
            string transposed = $"{node.Outputs[0]}/{name}";
            yield return Transpose(product.Inputs[input], transposed, perm.Ints);
            product.Inputs[input] = transposed;
        }

        if (node.Attributes.TryGetValue("y_perm", out var yPerm))
        {
            string written = product.Outputs[0];
            product.Outputs[0] = $"{node.Outputs[0]}/y_perm";
            yield return product;
            yield return Transpose(product.Outputs[0], written, yPerm.Ints);
        }
        else
        {
            yield return product;
        }
    }

    private static OnnxNode Transpose(string input, string output, long[] perm)
    {
        var transpose = new OnnxNode { Name = output, OpType = "Transpose" };
        transpose.Inputs.Add(input);
        transpose.Outputs.Add(output);
        transpose.Attributes["perm"] = new NodeAttribute { Name = "perm", Kind = AttributeKind.Ints, Ints = perm };
        return transpose;
    }

    private static OnnxNode ShadowNode(OnnxNode node, bool rename, int degree)
    {
        string op = node.OpType;
        string domain = node.Domain;
        if (OnnxNode.NormalizeDomain(domain) == "com.tessera" && op == "AllGather" && node.Attributes.TryGetValue("axis", out var axis))
        {
            var concat = new OnnxNode { Name = node.Name, OpType = "Concat" };
            concat.Inputs.AddRange(Enumerable.Repeat(node.Inputs[0], degree));
            concat.Outputs.AddRange(node.Outputs);
            concat.Attributes["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = axis.Int };
            return concat;
        }

        if (rename && OnnxNode.NormalizeDomain(domain) == "com.tessera")
        {
            // Each fused operator has the output shape of the standard operator it starts from; the activation
            // it absorbed keeps the shape. Unknown ones become Identity, which passes the first input's shape.
            op = op switch
            {
                "FusedConv" => "Conv",
                "FusedGemm" => "Gemm",
                "FusedMatMul" or "QuantizedMatMul" => "MatMul",
                "QuantizedConv" => "Conv",
                "LayerNormalization" or "HardSwish" or "Gelu" => op == "Gelu" ? "Relu" : op,
                _ => "Identity",
            };
            domain = string.Empty;
        }

        var copy = new OnnxNode { Name = node.Name, OpType = op, Domain = domain };
        // The quantized products read float X (input 0) and the integer weight (input 3) between their parameters.
        bool quantized = rename && node.OpType is "QuantizedMatMul" or "QuantizedConv";
        copy.Inputs.AddRange(op == "Relu" || op == "Identity" ? node.Inputs.Take(1) : quantized ? [node.Inputs[0], node.Inputs[3]] : node.Inputs);
        bool causal = quantized && node.Inputs.Count > 9 && node.Inputs[9].Length > 0;
        if ((rename && op is "Identity" && node.Outputs.Count > 1) || causal)
        {
            // (A causal attention's Q·Kᵀ: one product, its output 1 the rows' kept lengths.)
            // The extra outputs of a fused operator (a softmax's range) have no standard counterpart: left unknown.
            copy.Outputs.Add(node.Outputs[0]);
        }
        else if (quantized && node.Outputs.Count > 1)
        {
            // Products side by side: the MatMul over all weights has none of their outputs' shapes, which the
            // original model's inference gives under their names.
            copy.Outputs.Add(node.Outputs[0] + "/side-by-side");
        }
        else
        {
            copy.Outputs.AddRange(node.Outputs);
        }

        foreach (var (name, attribute) in node.Attributes) copy.Attributes[name] = attribute;
        return copy;
    }

    private static ValueInfo Copy(ValueInfo v) => new() { Name = v.Name, ElementType = v.ElementType, Shape = v.Shape, NonTensorKind = v.NonTensorKind };
}
