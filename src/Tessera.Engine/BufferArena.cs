using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// The memory of one session's intermediate values. Kernels rent output storage by byte size; the executor counts,
/// per buffer, the live value slots whose tensors are over it (views included, found through
/// <see cref="Tensor.StorageOwner"/>) and gives a buffer back when that count reaches zero. With fixed input shapes
/// the arena settles on a fixed set of buffers after the first run.
/// </summary>
/// <remarks>
/// Sizes are rounded up to one of four classes per power of two (at most 25% slack), so a buffer serves any value
/// of its class. Buffers live as long as the session; none ever leaves it, because the session copies graph outputs
/// out before the next run can reuse their storage. Not thread-safe: the session's run lock serialises it.
/// </remarks>
internal sealed unsafe class BufferArena : IOutputStorage
{
    private const int MinBytes = 64;
    private const int ClassCount = 4 * 32;

    private readonly Stack<ArenaBuffer>?[] _free = new Stack<ArenaBuffer>?[ClassCount];
    private readonly List<ArenaBuffer> _all = [];
    private readonly List<ArenaBuffer> _rentedThisStep = [];

    public int BufferCount => _all.Count;

    public long TotalBytes { get; private set; }

    public byte* Rent(int byteLength, out object owner)
    {
        int sizeClass = SizeClassOf(byteLength);
        var free = _free[sizeClass];
        if (free is null || !free.TryPop(out var buffer))
        {
            buffer = new ArenaBuffer(this, sizeClass, ClassBytes(sizeClass));
            _all.Add(buffer);
            TotalBytes += buffer.ByteLength;
        }

        buffer.InUse = true;
        buffer.References = 0;
        _rentedThisStep.Add(buffer);
        owner = buffer;
        return buffer.Pointer;
    }

    /// <summary>Counts one more live slot over <paramref name="value"/>'s storage when that storage is ours.</summary>
    public void Retain(Tensor? value)
    {
        if (Owned(value) is { } buffer)
        {
            buffer.References++;
        }
    }

    /// <summary>Counts one slot less over <paramref name="value"/>'s storage and recycles it when none is left.</summary>
    public void Release(Tensor? value)
    {
        if (Owned(value) is { } buffer && --buffer.References <= 0)
        {
            Return(buffer);
        }
    }

    /// <summary>After a step's outputs are retained: recycles what the step rented but no slot holds (scratch, unread outputs).</summary>
    public void EndStep()
    {
        foreach (var buffer in _rentedThisStep)
        {
            if (buffer.References <= 0)
            {
                Return(buffer);
            }
        }

        _rentedThisStep.Clear();
    }

    /// <summary>Makes every buffer free again, in a fixed order so that every run rents the same buffers.</summary>
    public void ReleaseAll()
    {
        foreach (var stack in _free)
        {
            stack?.Clear();
        }

        _rentedThisStep.Clear();
        foreach (var buffer in _all)
        {
            buffer.InUse = true;
            Return(buffer);
        }
    }

    public bool IsOwned(Tensor? value) => Owned(value) is not null;

    private ArenaBuffer? Owned(Tensor? value) =>
        value?.StorageOwner is ArenaBuffer buffer && ReferenceEquals(buffer.Arena, this) ? buffer : null;

    private void Return(ArenaBuffer buffer)
    {
        if (!buffer.InUse)
        {
            return;
        }

        buffer.InUse = false;
        buffer.References = 0;
        (_free[buffer.SizeClass] ??= new Stack<ArenaBuffer>()).Push(buffer);
    }

    /// <summary>Class 0 holds up to 64 bytes; above that, four classes per power of two.</summary>
    internal static int SizeClassOf(int byteLength)
    {
        if (byteLength <= MinBytes)
        {
            return 0;
        }

        int octave = BitOperations.Log2((uint)byteLength - 1); // 2^octave < byteLength <= 2^(octave+1)
        long quarter = 1L << (octave - 2);
        int step = (int)((byteLength - (1L << octave) + quarter - 1) / quarter); // 1..4
        return ((octave - 6) * 4) + step;
    }

    internal static int ClassBytes(int sizeClass)
    {
        if (sizeClass == 0)
        {
            return MinBytes;
        }

        int octave = ((sizeClass - 1) / 4) + 6;
        int step = ((sizeClass - 1) % 4) + 1;
        return (int)Math.Min(int.MaxValue - Tensor.Alignment, (1L << octave) + (step * (1L << (octave - 2))));
    }
}
