using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Tensor storage whose bytes are not there yet: its owner writes them on demand (a dataset reads them from a file).
/// Made the <see cref="Tensor.StorageOwner"/> of a tensor (and so of its views), it lets a sender that would copy the
/// tensor into shared memory have the bytes written there directly (<see cref="SharedMemory.SharedRing"/>), so they
/// are written once on this side rather than read into the storage and copied again. Everything else that reads a
/// tensor's own bytes (a TCP send, a narrowed encoding, an in-process stage, a slice that copies) calls
/// <see cref="Materialize(Tensor)"/> first, which fills the storage once. A view must be contiguous in the storage.
/// </summary>
public abstract unsafe class DeferredStorage
{
    private readonly Lock _lock = new();
    private volatile bool _filled;

    /// <param name="pointer">Where the storage starts: the tensors made on it point into it.</param>
    protected DeferredStorage(byte* pointer, long bytes)
    {
        Pointer = pointer;
        Bytes = bytes;
    }

    public byte* Pointer { get; }

    public long Bytes { get; }

    /// <summary>Fills the storage of <paramref name="tensor"/> when it is deferred and not filled yet; other tensors are left as they are.</summary>
    public static void Materialize(Tensor tensor)
    {
        if (tensor.StorageOwner is DeferredStorage deferred) deferred.Materialize();
    }

    /// <summary>Fills the storage of every tensor of <paramref name="tensors"/> that is deferred.</summary>
    public static void Materialize(IReadOnlyDictionary<string, Tensor> tensors)
    {
        foreach (var tensor in tensors.Values) Materialize(tensor);
    }

    /// <summary>Fills the storage itself, once; later calls return at once.</summary>
    public void Materialize()
    {
        if (_filled) return;
        lock (_lock)
        {
            if (_filled) return;
            Write(0, new Span<byte>(Pointer, checked((int)Bytes)));
            _filled = true;
        }
    }

    /// <summary>
    /// Writes the bytes of <paramref name="view"/> (a tensor on this storage) into <paramref name="destination"/>
    /// (exactly their length): from the storage once it is filled, else straight from the source.
    /// </summary>
    public void WriteTo(Tensor view, Span<byte> destination)
    {
        long offset = view.Pointer - Pointer;
        if (offset < 0 || offset + destination.Length > Bytes || destination.Length != view.ByteLength)
        {
            throw new ArgumentException($"{view} does not lie in this storage", nameof(view));
        }

        if (_filled)
        {
            view.Bytes.CopyTo(destination);
            return;
        }

        Write(offset, destination);
    }

    /// <summary>Writes the storage's bytes [<paramref name="offset"/>, + destination's length) into <paramref name="destination"/>; may be called again for the same bytes.</summary>
    protected abstract void Write(long offset, Span<byte> destination);
}
