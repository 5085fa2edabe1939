using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>Gives received tensors their storage, and may take it back once a tensor is no longer used.</summary>
public interface ITensorAllocator
{
    /// <summary>Fresh tensors the receiver owns outright; <see cref="Return"/> does nothing.</summary>
    static ITensorAllocator Fresh { get; } = new FreshTensors();

    /// <summary>A tensor of this type and shape with uninitialised contents.</summary>
    Tensor Allocate(DataType dataType, int[] shape);

    /// <summary>
    /// Hands back a tensor nobody reads or writes any more (nor any view of its storage). Tensors this allocator did
    /// not make, and second returns, are ignored.
    /// </summary>
    void Return(Tensor tensor);

    private sealed class FreshTensors : ITensorAllocator
    {
        public Tensor Allocate(DataType dataType, int[] shape) => Tensor.Allocate(dataType, shape);

        public void Return(Tensor tensor)
        {
        }
    }
}
