using Tessera.Onnx.Graph;

namespace Tessera.Cli.Conformance;

/// <summary>The operator types a model uses, including those inside subgraphs (If/Loop/Scan bodies).</summary>
public static class ModelOperators
{
    /// <summary>Sorted, distinct; operators of a domain other than the default one read "domain:OpType".</summary>
    public static List<string> Of(OnnxModel model)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        Collect(model.Graph, names);
        return [.. names];
    }

    private static void Collect(OnnxGraph graph, SortedSet<string> names)
    {
        foreach (var node in graph.Nodes)
        {
            string domain = OnnxNode.NormalizeDomain(node.Domain);
            names.Add(domain.Length == 0 ? node.OpType : $"{domain}:{node.OpType}");
            foreach (var attribute in node.Attributes.Values)
            {
                if (attribute.Graph is not null)
                {
                    Collect(attribute.Graph, names);
                }

                foreach (var subgraph in attribute.Graphs)
                {
                    Collect(subgraph, names);
                }
            }
        }
    }
}
