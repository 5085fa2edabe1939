using System.Runtime.InteropServices;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Holds an array in place until this object is collected: the owner of tensors made over a decoded message's
/// bytes (<see cref="PinnedBytes.Pin"/>), which must not move while any of those tensors is alive.
/// </summary>
internal sealed unsafe class PinnedArray
{
    private GCHandle _handle;

    public PinnedArray(byte[] array)
    {
        _handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        Pointer = (byte*)_handle.AddrOfPinnedObject();
    }

    ~PinnedArray()
    {
        _handle.Free();
    }

    public byte* Pointer { get; }
}
