using Tessera.Tensors;

namespace Tessera.Onnx.Graph;

/// <summary>Copies a model's structure (nodes, tables, value infos) so it can be edited; tensors and subgraphs are shared.</summary>
public static class ModelCopy
{
    public static OnnxModel Of(OnnxModel model, IEnumerable<OnnxNode>? nodes = null)
    {
        var g = model.Graph;
        var graph = new OnnxGraph
        {
            Name = g.Name,
            DocString = g.DocString,
            Nodes = (nodes ?? g.Nodes).Select(Node).ToList(),
            Initializers = new Dictionary<string, Tensor>(g.Initializers, StringComparer.Ordinal),
            OverridableInitializers = new HashSet<string>(g.OverridableInitializers, StringComparer.Ordinal),
            Inputs = g.Inputs.Select(Info).ToList(),
            Outputs = g.Outputs.Select(Info).ToList(),
            ValueInfos = g.ValueInfos.ToDictionary(kv => kv.Key, kv => Info(kv.Value), StringComparer.Ordinal),
        };

        return new OnnxModel
        {
            IrVersion = model.IrVersion,
            OpsetImports = new Dictionary<string, long>(model.OpsetImports, StringComparer.Ordinal),
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Metadata = new Dictionary<string, string>(model.Metadata, StringComparer.Ordinal),
            Graph = graph,
        };
    }

    public static OnnxNode Node(OnnxNode node)
    {
        var copy = new OnnxNode { Name = node.Name, OpType = node.OpType, Domain = node.Domain, DocString = node.DocString };
        copy.Inputs.AddRange(node.Inputs);
        copy.Outputs.AddRange(node.Outputs);
        foreach (var (name, attribute) in node.Attributes) copy.Attributes[name] = attribute;
        return copy;
    }

    private static ValueInfo Info(ValueInfo v) => new()
    {
        Name = v.Name,
        ElementType = v.ElementType,
        Shape = v.Shape,
        DocString = v.DocString,
        NonTensorKind = v.NonTensorKind,
    };
}
