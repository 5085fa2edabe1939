using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// One received frame: a control payload, or for a Tensor frame the tensor its bytes were read into
/// (a new tensor the receiver owns).
/// </summary>
public sealed record Frame(FrameHeader Header, byte[] Payload, string? TensorName = null, Tensor? Tensor = null)
{
    public FrameType Type => Header.Type;

    public ulong RequestId => Header.RequestId;
}
