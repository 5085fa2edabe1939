using System.Buffers;
using System.Collections.Concurrent;

namespace Tessera.Serving.Http;

/// <summary>
/// The memory Kestrel reads sockets into and builds HTTP/2 frames in: pinned blocks of <see cref="BlockBytes"/>
/// instead of its default 4 KiB. A socket read fills at most one block, so a 64 MiB tensor arriving in 4 KiB blocks
/// took 16,384 receive calls and as many pipe segments to copy out of; in 128 KiB blocks it takes 512. Idle
/// connections hold no block (Kestrel waits for data before renting), so the larger size costs memory only while
/// bytes are in flight. Free blocks are kept up to a bound (see <see cref="TransportMemoryPoolFactory"/>) and
/// otherwise left to the collector.
/// </summary>
internal sealed class TransportMemoryPool : MemoryPool<byte>
{
    public const int BlockBytes = 128 * 1024;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxFree;
    private int _freeCount;

    public TransportMemoryPool(int maxFreeBlocks)
    {
        _maxFree = maxFreeBlocks;
    }

    public override int MaxBufferSize => BlockBytes;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockBytes);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Lease();
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= _maxFree)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    /// <summary>One pinned block; disposing it gives it back (once per lease).</summary>
    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly TransportMemoryPool _pool;
        private int _leased = 1;

        public Block(TransportMemoryPool pool)
        {
            _pool = pool;
            var array = GC.AllocateUninitializedArray<byte>(BlockBytes, pinned: true);
            Memory = System.Runtime.InteropServices.MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);
        }

        public Memory<byte> Memory { get; }

        public void Lease() => Volatile.Write(ref _leased, 1);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 1)
            {
                _pool.Return(this);
            }
        }
    }
}
