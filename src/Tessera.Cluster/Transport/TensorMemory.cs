using System.Buffers;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// A tensor's storage as <see cref="Memory{T}"/> of bytes, so sockets can send from it and receive into it
/// directly. Tensor storage never moves, so pinning is free; the tensor is kept alive while the memory is in use.
/// </summary>
internal sealed unsafe class TensorMemory : MemoryManager<byte>
{
    private readonly Tensor _tensor;

    public TensorMemory(Tensor tensor)
    {
        _tensor = tensor;
    }

    public override Span<byte> GetSpan() => new(_tensor.Pointer, _tensor.ByteLength);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_tensor.Pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
