using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A tree of Mul (and Div by a constant) nodes read as one product: the non-constant factors, the product of the
/// constant scalars, and the nodes of the tree. Exporters order the factors of x·0.5·(1 + erf(x/√2)) and similar
/// formulas in every possible way; matching the flattened product covers all of them at once.
/// </summary>
internal sealed class Product
{
    private const int MaxDepth = 4;

    private Product(List<string> factors, double scale, List<OnnxNode> nodes)
    {
        Factors = factors;
        Scale = scale;
        Nodes = nodes;
    }

    public List<string> Factors { get; }

    public double Scale { get; }

    /// <summary>The Mul/Div nodes, root first.</summary>
    public List<OnnxNode> Nodes { get; }

    /// <summary>Reads the product rooted at <paramref name="root"/>; null when the root is neither Mul nor a Div by a constant.</summary>
    public static Product? Of(GraphEditor graph, OnnxNode root)
    {
        if (!IsProductNode(graph, root)) return null;
        var factors = new List<string>();
        var nodes = new List<OnnxNode>();
        double scale = 1;
        Collect(graph, root, factors, nodes, ref scale, 0);
        return new Product(factors, scale, nodes);
    }

    /// <summary>Whether the product is <paramref name="expectedScale"/> times exactly the given factors (in any order).</summary>
    public bool Is(double expectedScale, params string[] factors)
    {
        if (Math.Abs(Scale - expectedScale) > 1e-4 * Math.Max(1, Math.Abs(expectedScale)) || Factors.Count != factors.Length) return false;
        var left = new List<string>(Factors);
        return factors.All(left.Remove);
    }

    /// <summary>The one factor that is not <paramref name="known"/>, when the product has exactly two factors and one is.</summary>
    public string? OtherFactor(string known)
    {
        if (Factors.Count != 2) return null;
        return Factors[0] == known ? Factors[1] : Factors[1] == known ? Factors[0] : null;
    }

    private static bool IsProductNode(GraphEditor graph, OnnxNode node) =>
        node.Inputs.Count == 2 && (GraphEditor.IsOp(node, "Mul") || (GraphEditor.IsOp(node, "Div") && graph.TryScalar(node.Inputs[1], out _)));

    private static void Collect(GraphEditor graph, OnnxNode node, List<string> factors, List<OnnxNode> nodes, ref double scale, int depth)
    {
        nodes.Add(node);
        bool divide = node.OpType == "Div";
        for (int i = 0; i < 2; i++)
        {
            string input = node.Inputs[i];
            if (graph.TryScalar(input, out float c))
            {
                scale = divide && i == 1 ? scale / c : scale * c;
                continue;
            }

            // Descend only into a product node whose result nothing else reads, so the whole tree can be replaced.
            var producer = graph.Producer(input);
            if (depth < MaxDepth && producer is not null && IsProductNode(graph, producer) && graph.SoleConsumer(input) == node)
            {
                Collect(graph, producer, factors, nodes, ref scale, depth + 1);
            }
            else
            {
                factors.Add(input);
            }
        }
    }
}
