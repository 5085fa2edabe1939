using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Averaging;

/// <summary>Collects the difference lines for one pair of graphs (see <see cref="ModelComparer"/> for what is compared).</summary>
internal sealed class GraphDifferences(string nameA, string nameB)
{
    public List<string> Lines { get; } = [];

    public void Add(string line) => Lines.Add(line);

    public void CompareGraph(OnnxGraph a, OnnxGraph b, string prefix)
    {
        CompareValues(prefix + "input", a.Inputs, b.Inputs);
        CompareValues(prefix + "output", a.Outputs, b.Outputs);
        if (a.Nodes.Count != b.Nodes.Count)
        {
            Add($"{prefix}node count: {a.Nodes.Count} in {nameA}, {b.Nodes.Count} in {nameB}");
        }

        // Only the first differing node: after an inserted or removed node every later index differs too.
        for (int i = 0; i < Math.Min(a.Nodes.Count, b.Nodes.Count); i++)
        {
            if (!NodesMatch(a.Nodes[i], b.Nodes[i], $"{prefix}node {i} '{a.Nodes[i].DisplayName}'"))
            {
                break;
            }
        }

        foreach (var (name, ta) in a.Initializers)
        {
            if (b.Initializers.TryGetValue(name, out var tb))
            {
                CompareTensor($"{prefix}initializer '{name}'", ta, tb);
            }
            else
            {
                Add($"{prefix}initializer '{name}' ({TensorText.Describe(ta)}) is in {nameA} but not in {nameB}");
            }
        }

        foreach (var (name, tb) in b.Initializers)
        {
            if (!a.Initializers.ContainsKey(name))
            {
                Add($"{prefix}initializer '{name}' ({TensorText.Describe(tb)}) is in {nameB} but not in {nameA}");
            }
        }
    }

    private void CompareValues(string what, List<ValueInfo> a, List<ValueInfo> b)
    {
        if (a.Count != b.Count)
        {
            Add($"{what} count: {a.Count} in {nameA}, {b.Count} in {nameB}");
        }

        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (a[i].Name != b[i].Name || a[i].ElementType != b[i].ElementType || !SameKnownDims(a[i].Shape, b[i].Shape))
            {
                Add($"{what} {i}: {Describe(a[i])} in {nameA}, {Describe(b[i])} in {nameB}");
            }
        }
    }

    private static string Describe(ValueInfo v) =>
        $"'{v.Name}'{(v.ElementType == DataType.Undefined && v.Shape is null ? "" : $" {DataTypes.Name(v.ElementType)}{v.FormatShape()}")}";

    /// <summary>Ranks agree and every dimension known in both agrees; symbols may be spelled differently by exporters.</summary>
    private static bool SameKnownDims(Dimension[]? a, Dimension[]? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a.Length != b.Length) return false;
        for (int d = 0; d < a.Length; d++)
        {
            if (a[d].IsKnown != b[d].IsKnown || a[d].Value != b[d].Value) return false;
        }

        return true;
    }

    /// <summary>Adds the first difference between the two nodes (or their subgraphs' lines) and says whether they match.</summary>
    private bool NodesMatch(OnnxNode a, OnnxNode b, string label)
    {
        if (a.OpType != b.OpType || a.Domain != b.Domain)
        {
            Add($"{label}: {Op(a)} in {nameA}, {Op(b)} in {nameB}");
            return false;
        }

        label += $" ({Op(a)})";
        if ((FirstListDifference("input", a.Inputs, b.Inputs) ?? FirstListDifference("output", a.Outputs, b.Outputs)) is { } io)
        {
            Add($"{label}: {io}");
            return false;
        }

        foreach (string name in a.Attributes.Keys.Union(b.Attributes.Keys).Order(StringComparer.Ordinal))
        {
            bool inA = a.Attributes.TryGetValue(name, out var x), inB = b.Attributes.TryGetValue(name, out var y);
            if (!inA || !inB)
            {
                Add($"{label}: attribute {name} is set in {(inA ? nameA : nameB)} only");
                return false;
            }

            int before = Lines.Count;
            if (AttributeDifference(x!, y!, $"{label}: attribute {name}") is { } line)
            {
                Add(line);
            }

            if (Lines.Count > before)
            {
                return false;
            }
        }

        return true;
    }

    private static string Op(OnnxNode n) => n.Domain.Length == 0 ? n.OpType : $"{n.Domain}.{n.OpType}";

    private string? FirstListDifference(string what, List<string> a, List<string> b)
    {
        for (int i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            string? x = i < a.Count ? a[i] : null, y = i < b.Count ? b[i] : null;
            if (x != y)
            {
                return $"{what} {i} is {Quote(x)} in {nameA}, {Quote(y)} in {nameB}";
            }
        }

        return null;
    }

    private static string Quote(string? s) => s is null ? "absent" : $"'{s}'";

    /// <summary>A one-line difference of the attribute values, or null; tensors and subgraphs add their own lines.</summary>
    private string? AttributeDifference(NodeAttribute x, NodeAttribute y, string label)
    {
        if (x.Kind != y.Kind)
        {
            return $"{label} is {x.Kind} in {nameA}, {y.Kind} in {nameB}";
        }

        bool same = x.Kind switch
        {
            AttributeKind.Float => x.Float.Equals(y.Float),
            AttributeKind.Int => x.Int == y.Int,
            AttributeKind.String => x.String == y.String,
            AttributeKind.Floats => x.Floats.SequenceEqual(y.Floats),
            AttributeKind.Ints => x.Ints.SequenceEqual(y.Ints),
            AttributeKind.Strings => x.Strings.SequenceEqual(y.Strings),
            _ => true,
        };
        if (!same)
        {
            return $"{label} is {Value(x)} in {nameA}, {Value(y)} in {nameB}";
        }

        switch (x.Kind)
        {
            case AttributeKind.Tensor: CompareTensor(label, x.Tensor!, y.Tensor!); break;
            case AttributeKind.Graph: CompareGraph(x.Graph!, y.Graph!, label + ": "); break;
            case AttributeKind.Tensors or AttributeKind.Graphs:
                int n = x.Kind == AttributeKind.Tensors ? x.Tensors.Length : x.Graphs.Length;
                int m = x.Kind == AttributeKind.Tensors ? y.Tensors.Length : y.Graphs.Length;
                if (n != m) return $"{label} holds {n} items in {nameA}, {m} in {nameB}";
                for (int i = 0; i < n; i++)
                {
                    if (x.Kind == AttributeKind.Tensors) CompareTensor($"{label}[{i}]", x.Tensors[i], y.Tensors[i]);
                    else CompareGraph(x.Graphs[i], y.Graphs[i], $"{label}[{i}]: ");
                }

                break;
        }

        return null;
    }

    private static string Value(NodeAttribute a)
    {
        string text = a.ToString();
        int eq = text.IndexOf('=');
        return eq >= 0 ? text[(eq + 1)..] : text;
    }

    /// <summary>Type and shape must agree; values too, unless floating point (those get averaged).</summary>
    private void CompareTensor(string label, Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType || !a.Shape.AsSpan().SequenceEqual(b.Shape))
        {
            Add($"{label}: {TensorText.Describe(a)} in {nameA}, {TensorText.Describe(b)} in {nameB}");
            return;
        }

        if (!DataTypes.IsFloatingPoint(a.DataType) && TensorText.FirstDifference(a, b) is var i and >= 0)
        {
            Add($"{label} ({TensorText.Describe(a)}) differs at element {i}: {TensorText.Element(a, i)} in {nameA}, " +
                $"{TensorText.Element(b, i)} in {nameB} ({DataTypes.Name(a.DataType)} tensors are not averaged and must be equal)");
        }
    }
}
