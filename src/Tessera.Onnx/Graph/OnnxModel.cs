namespace Tessera.Onnx.Graph;

/// <summary>An ONNX model: the main graph plus the opsets it was written against and its metadata.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; } = 8;

    /// <summary>Operator set version per domain ("" is the default ONNX domain).</summary>
    public Dictionary<string, long> OpsetImports { get; init; } = new(StringComparer.Ordinal);

    public string ProducerName { get; set; } = string.Empty;

    public string ProducerVersion { get; set; } = string.Empty;

    public string Domain { get; set; } = string.Empty;

    public long ModelVersion { get; set; }

    public string DocString { get; set; } = string.Empty;

    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    public required OnnxGraph Graph { get; init; }

    /// <summary>The default-domain opset, as most rules depend on it.</summary>
    public int DefaultOpset => (int)OpsetImports.GetValueOrDefault(string.Empty, 1);

    public int OpsetFor(string domain) => (int)OpsetImports.GetValueOrDefault(OnnxNode.NormalizeDomain(domain), 1);
}
