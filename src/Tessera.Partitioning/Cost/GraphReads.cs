using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// The values a node reads: its inputs, plus the outer values its subgraphs (If/Loop/Scan bodies) read by name
/// without declaring them, which a stage must receive just like explicit inputs.
/// </summary>
internal static class GraphReads
{
    public static List<string> Of(OnnxNode node, ISet<string> outerValues)
    {
        var reads = node.Inputs.Where(i => i.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        foreach (var graph in Subgraphs(node))
        {
            foreach (string name in Implicit(graph))
            {
                if (outerValues.Contains(name) && !reads.Contains(name)) reads.Add(name);
            }
        }

        return reads;
    }

    public static bool HasSubgraphs(OnnxNode node) => Subgraphs(node).Any();

    private static IEnumerable<OnnxGraph> Subgraphs(OnnxNode node) =>
        node.Attributes.Values.SelectMany(a => a.Graph is { } g ? a.Graphs.Append(g) : a.Graphs);

    private static IEnumerable<string> Implicit(OnnxGraph graph)
    {
        var defined = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        defined.UnionWith(graph.Initializers.Keys);
        foreach (var node in graph.Nodes) defined.UnionWith(node.Outputs);
        foreach (var node in graph.Nodes)
        {
            foreach (string input in node.Inputs.Where(i => i.Length > 0 && !defined.Contains(i))) yield return input;
            foreach (var inner in Subgraphs(node))
            {
                foreach (string name in Implicit(inner).Where(n => !defined.Contains(n))) yield return name;
            }
        }
    }
}
