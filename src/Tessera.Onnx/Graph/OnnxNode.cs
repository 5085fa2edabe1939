namespace Tessera.Onnx.Graph;

/// <summary>A node of the graph: an operator applied to named values. An empty input name is an omitted optional input.</summary>
public sealed class OnnxNode
{
    public string Name { get; set; } = string.Empty;

    public required string OpType { get; set; }

    /// <summary>Operator domain; "" and "ai.onnx" both mean the default ONNX domain.</summary>
    public string Domain { get; set; } = string.Empty;

    public List<string> Inputs { get; init; } = [];

    public List<string> Outputs { get; init; } = [];

    public Dictionary<string, NodeAttribute> Attributes { get; init; } = new(StringComparer.Ordinal);

    public string DocString { get; set; } = string.Empty;

    /// <summary>Name for messages: the node's name, or its first output when it has none.</summary>
    public string DisplayName => Name.Length > 0 ? Name : Outputs.Count > 0 ? $"<{Outputs[0]}>" : "<unnamed>";

    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? string.Empty : domain;

    public override string ToString() => $"{OpType} '{DisplayName}'";
}
