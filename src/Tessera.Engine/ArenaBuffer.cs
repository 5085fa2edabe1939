using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>One block of a <see cref="BufferArena"/>: pinned, aligned, and owned by the arena for the session's life.</summary>
internal sealed unsafe class ArenaBuffer
{
    // Keeps the pinned block alive; tensors over it keep this object alive in turn.
    private readonly byte[] _storage;

    public ArenaBuffer(BufferArena arena, int sizeClass, int byteLength)
    {
        Arena = arena;
        SizeClass = sizeClass;
        _storage = GC.AllocateUninitializedArray<byte>(byteLength + Tensor.Alignment, pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        Pointer = (byte*)(((nuint)start + Tensor.Alignment - 1) & ~(nuint)(Tensor.Alignment - 1));
    }

    public BufferArena Arena { get; }

    public int SizeClass { get; }

    public int ByteLength => _storage.Length - Tensor.Alignment;

    public byte* Pointer { get; }

    /// <summary>Number of live value slots whose tensors are over this buffer.</summary>
    public int References { get; set; }

    /// <summary>Rented and not yet given back.</summary>
    public bool InUse { get; set; }
}
