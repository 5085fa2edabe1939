using System.Runtime.InteropServices;

namespace Tessera.Batch.Datasets;

/// <summary>
/// Native, 64-byte aligned buffers that batches of records are read into, kept for the next batches: a job reads
/// batches of one size over and over, and fresh memory for each would cost page faults on every page again.
/// At most <see cref="Kept"/> free buffers are kept, so memory stays a few batches' worth.
/// </summary>
internal sealed unsafe class ReadBufferPool : IDisposable
{
    private const int Kept = 4;
    private readonly Stack<ReadBuffer> _free = new();
    private bool _disposed;

    /// <summary>A buffer of at least <paramref name="bytes"/> bytes; disposing it gives it back.</summary>
    public ReadBuffer Rent(long bytes)
    {
        lock (_free)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_free.TryPop(out var kept))
            {
                if (kept.Capacity >= bytes) return kept.Lease();
                kept.Free();
            }
        }

        return new ReadBuffer(this, bytes);
    }

    internal void Return(ReadBuffer buffer)
    {
        lock (_free)
        {
            if (!_disposed && _free.Count < Kept)
            {
                _free.Push(buffer);
                return;
            }
        }

        buffer.Free();
    }

    public void Dispose()
    {
        lock (_free)
        {
            _disposed = true;
            while (_free.TryPop(out var kept)) kept.Free();
        }
    }

    /// <summary>One buffer; <see cref="Dispose"/> returns it to its pool (once per lease).</summary>
    internal sealed class ReadBuffer : IDisposable
    {
        private readonly ReadBufferPool _pool;
        private int _leased;

        public ReadBuffer(ReadBufferPool pool, long capacity)
        {
            _pool = pool;
            Capacity = capacity;
            Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, 64);
            _leased = 1;
        }

        public byte* Pointer { get; private set; }

        public long Capacity { get; }

        public ReadBuffer Lease()
        {
            _leased = 1;
            return this;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 1) _pool.Return(this);
        }

        public void Free()
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
