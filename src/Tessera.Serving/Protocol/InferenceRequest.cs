using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>A parsed inference request: tensors decoded, options read from its "parameters".</summary>
internal sealed class InferenceRequest
{
    public string? Id { get; set; }

    /// <summary>Inputs by name, in the order the request gave them.</summary>
    public Dictionary<string, Tensor> Inputs { get; } = new(StringComparer.Ordinal);

    /// <summary>The "outputs" the client asked for; empty means all outputs.</summary>
    public List<RequestedOutput> Outputs { get; } = [];

    /// <summary>Request-level "binary_data_output": every output as binary unless the output says otherwise.</summary>
    public bool BinaryDataOutput { get; set; }

    /// <summary>"priority": 1 is the highest level; 0 (or absent) means the model's default level.</summary>
    public int Priority { get; set; }

    /// <summary>"timeout" in microseconds; 0 (or absent) means the model's default.</summary>
    public long TimeoutMicroseconds { get; set; }
}
