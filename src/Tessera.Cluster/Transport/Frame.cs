using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// One received frame: a control payload, or for a Tensor frame the tensor its bytes were read into
/// (a new tensor the receiver owns), or for a Collective block frame the part before the block in Payload and the
/// block in <see cref="Block"/>.
/// </summary>
public sealed record Frame(FrameHeader Header, byte[] Payload, string? TensorName = null, Tensor? Tensor = null)
{
    /// <summary>
    /// A Collective frame's block: the first <see cref="BlockLength"/> bytes of an array rented from
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>; whoever consumes the frame returns it.
    /// </summary>
    public byte[]? Block { get; init; }

    public int BlockLength { get; init; }

    public FrameType Type => Header.Type;

    public ulong RequestId => Header.RequestId;
}
