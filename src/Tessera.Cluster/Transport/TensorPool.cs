using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Recycles the storage of large received tensors. A worker receives the same shapes request after request; fresh
/// multi-megabyte arrays cost a page fault per 4 KiB touched and a full garbage collection every few, which made a
/// 4 MiB request several times slower than its copies. Blocks are kept per exact byte size, up to a bound in total;
/// a tensor that is never returned is simply collected.
/// </summary>
public sealed unsafe class TensorPool : ITensorAllocator
{
    /// <summary>Smaller tensors come from the allocator as usual: their arrays are cheap and the pool would not pay.</summary>
    public const int MinimumPooledBytes = 64 * 1024;

    private readonly ConcurrentDictionary<long, ConcurrentBag<Block>> _free = new();
    private readonly long _maxPooledBytes;
    private long _pooledBytes;

    public TensorPool(long maxPooledBytes = 256L << 20)
    {
        _maxPooledBytes = maxPooledBytes;
    }

    /// <summary>Bytes held in free blocks now.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    public Tensor Allocate(DataType dataType, int[] shape)
    {
        long bytes = (long)ShapeMath.ElementCount(shape) * DataTypes.SizeOf(dataType);
        if (bytes < MinimumPooledBytes || dataType == DataType.String)
        {
            return Tensor.Allocate(dataType, shape);
        }

        if (_free.TryGetValue(bytes, out var bag) && bag.TryTake(out var block))
        {
            Interlocked.Add(ref _pooledBytes, -bytes);
            block.InPool = 0;
        }
        else
        {
            block = new Block(this, bytes);
        }

        return Tensor.FromPointer(dataType, shape, block.Pointer, block);
    }

    public void Return(Tensor tensor)
    {
        if (tensor.StorageOwner is not Block block || block.Pool != this || Interlocked.Exchange(ref block.InPool, 1) != 0)
        {
            return;
        }

        if (Interlocked.Add(ref _pooledBytes, block.Bytes) > _maxPooledBytes)
        {
            Interlocked.Add(ref _pooledBytes, -block.Bytes);
            return;
        }

        _free.GetOrAdd(block.Bytes, _ => new ConcurrentBag<Block>()).Add(block);
    }

    /// <summary>One pinned, 64-byte aligned array; the tensors made from it name it as their storage owner.</summary>
    private sealed class Block
    {
        private readonly byte[] _storage;

        public Block(TensorPool pool, long bytes)
        {
            Pool = pool;
            Bytes = bytes;
            _storage = GC.AllocateUninitializedArray<byte>(checked((int)bytes + Tensor.Alignment), pinned: true);
            byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
            Pointer = (byte*)(((nuint)start + Tensor.Alignment - 1) & ~(nuint)(Tensor.Alignment - 1));
        }

        public TensorPool Pool { get; }

        public long Bytes { get; }

        public byte* Pointer { get; }

        /// <summary>1 while the block sits in the pool, so a second return of the same tensor cannot add it twice.</summary>
        public int InPool;
    }
}
