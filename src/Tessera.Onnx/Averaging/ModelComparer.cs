using Tessera.Onnx.Graph;

namespace Tessera.Onnx.Averaging;

/// <summary>
/// Lists the differences that stop two models from being averaged, one line each: opset imports, graph inputs and
/// outputs (name, element type, known dimensions), the node count and the first node that differs (operator,
/// inputs, outputs, attributes; subgraphs recursively), and the initializers (missing, element type, shape, and
/// for integer, bool and string tensors the first element that differs). Floating point values may differ: that
/// is what averaging is for. Node names and symbolic dimension names are not compared.
/// </summary>
public static class ModelComparer
{
    public static IReadOnlyList<string> Differences(OnnxModel a, OnnxModel b, string nameA = "A", string nameB = "B")
    {
        var diff = new GraphDifferences(nameA, nameB);
        foreach (string domain in a.OpsetImports.Keys.Union(b.OpsetImports.Keys).Order(StringComparer.Ordinal))
        {
            string label = domain.Length == 0 ? "ai.onnx" : domain;
            bool inA = a.OpsetImports.TryGetValue(domain, out long va), inB = b.OpsetImports.TryGetValue(domain, out long vb);
            if (inA != inB || va != vb)
            {
                diff.Add($"opset {label}: {(inA ? va : "none")} in {nameA}, {(inB ? vb : "none")} in {nameB}");
            }
        }

        diff.CompareGraph(a.Graph, b.Graph, string.Empty);
        return diff.Lines;
    }
}
