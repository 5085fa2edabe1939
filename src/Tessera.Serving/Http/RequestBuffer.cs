using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Http;

/// <summary>
/// A request body in a pinned, 64-byte aligned block of a <see cref="RequestBufferPool"/>. Disposing gives the block
/// back: tensors made over it (<see cref="Bytes"/>) must then be used by nobody whose answer still counts — an
/// endpoint disposes it once its response is written (work still running for a request that timed out or whose
/// client left only produces results that are dropped).
/// </summary>
internal sealed unsafe class RequestBuffer : IDisposable
{
    public const int Alignment = 64;

    private readonly RequestBufferPool _pool;
    private readonly byte[] _storage;
    private readonly int _start;
    private readonly byte* _pointer;
    private int _returned;

    public RequestBuffer(RequestBufferPool pool, int capacity)
    {
        _pool = pool;
        Capacity = capacity;
        _storage = GC.AllocateUninitializedArray<byte>(capacity + Alignment, pinned: true);
        byte* first = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _start = (int)(((nuint)first + Alignment - 1 & ~(nuint)(Alignment - 1)) - (nuint)first);
        _pointer = first + _start; // the array is pinned for its whole life
    }

    public int Capacity { get; }

    /// <summary>Bytes of the body read so far.</summary>
    public int Length { get; set; }

    /// <summary>Room after the body read so far, to read more into.</summary>
    public Memory<byte> Free => _storage.AsMemory(_start + Length, Capacity - Length);

    public ReadOnlySpan<byte> Span => _storage.AsSpan(_start, Length);

    /// <summary>The body read so far as memory (of the pinned array, so <see cref="PinnedBytes.Pin"/> keeps it in place).</summary>
    public ReadOnlyMemory<byte> Memory => _storage.AsMemory(_start, Length);

    /// <summary>A slice of the body that tensors can be made over without a copy.</summary>
    public PinnedBytes Bytes(int offset, int length) => new PinnedBytes(_pointer, Length, this).Slice(offset, length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0)
        {
            _pool.Return(this);
        }
    }

    internal void Reuse()
    {
        Length = 0;
        _returned = 0;
    }
}
