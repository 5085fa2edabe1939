using System.Collections.Concurrent;
using System.Numerics;

namespace Tessera.Serving.Http;

/// <summary>
/// Pinned blocks for request bodies, kept for reuse by size class (four classes per power of two from 64 KiB, so a
/// block wastes at most a fifth of itself). Fresh multi-megabyte memory costs a page fault per 4 KiB touched and
/// full garbage collections, which made a 64 MiB tensor several times slower than its copies; binary inputs are
/// tensors over the block itself (<see cref="RequestBuffer.Bytes"/>). Blocks beyond the bound go to the collector.
/// </summary>
internal sealed class RequestBufferPool
{
    public const int MinimumBlockBytes = 64 * 1024;

    private readonly ConcurrentDictionary<int, ConcurrentBag<RequestBuffer>> _free = new();
    private readonly long _maxPooledBytes;
    private long _pooledBytes;

    public RequestBufferPool(long maxPooledBytes)
    {
        _maxPooledBytes = maxPooledBytes;
    }

    /// <summary>Bytes held in free blocks now.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>An empty buffer of at least <paramref name="capacity"/> bytes; dispose it to give it back.</summary>
    public RequestBuffer Rent(int capacity)
    {
        int size = ClassSize(capacity);
        if (_free.TryGetValue(size, out var bag) && bag.TryTake(out var buffer))
        {
            Interlocked.Add(ref _pooledBytes, -size);
            buffer.Reuse();
            return buffer;
        }

        return new RequestBuffer(this, size);
    }

    internal void Return(RequestBuffer buffer)
    {
        if (Interlocked.Add(ref _pooledBytes, buffer.Capacity) > _maxPooledBytes)
        {
            Interlocked.Add(ref _pooledBytes, -buffer.Capacity);
            return;
        }

        _free.GetOrAdd(buffer.Capacity, _ => []).Add(buffer);
    }

    /// <summary>The smallest class size that holds <paramref name="bytes"/>: 2^k times 1, 1.25, 1.5 or 1.75.</summary>
    internal static int ClassSize(int bytes)
    {
        if (bytes <= MinimumBlockBytes)
        {
            return MinimumBlockBytes;
        }

        int power = 1 << (BitOperations.Log2((uint)bytes));
        long quarter = power / 4;
        long size = power;
        while (size < bytes)
        {
            size += quarter;
        }

        return (int)Math.Min(size, Array.MaxLength - RequestBuffer.Alignment);
    }
}
