using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Bytes that stay where they are for as long as the tensors made from them live — a pooled block holding a request
/// body, or a pinned field of a decoded message — so binary tensor data becomes input tensors without a copy
/// (<see cref="Wrap"/>). The owner is kept alive by every tensor made from it.
/// </summary>
internal readonly unsafe struct PinnedBytes
{
    /// <summary>Below this, <see cref="Pin"/> copies: a small copy costs less than pinning a small array.</summary>
    public const int MinimumPinnedBytes = 64 * 1024;

    private readonly byte* _pointer;
    private readonly object? _owner;

    public PinnedBytes(byte* pointer, int length, object owner)
    {
        _pointer = pointer;
        Length = length;
        _owner = owner;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => new(_pointer, Length);

    public PinnedBytes Slice(int offset, int length)
    {
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, +{length}) is outside {Length} bytes");
        }

        return new PinnedBytes(_pointer + offset, length, _owner!);
    }

    /// <summary>A tensor over these bytes (no copy); its elements need not be aligned.</summary>
    public Tensor Wrap(DataType dataType, int[] shape) => Tensor.FromPointer(dataType, shape, _pointer, _owner);

    /// <summary>A pinned copy of <paramref name="bytes"/>.</summary>
    public static PinnedBytes Copy(ReadOnlySpan<byte> bytes)
    {
        var storage = Tensor.Allocate(DataType.UInt8, [bytes.Length]);
        bytes.CopyTo(storage.Bytes);
        return new PinnedBytes(storage.Pointer, bytes.Length, storage);
    }

    /// <summary>The bytes of <paramref name="memory"/> kept in place when they are a large array (pinned until no tensor uses them), else a copy.</summary>
    public static PinnedBytes Pin(ReadOnlyMemory<byte> memory)
    {
        if (memory.Length < MinimumPinnedBytes || !MemoryMarshal.TryGetArray(memory, out var segment))
        {
            return Copy(memory.Span);
        }

        var pinned = new PinnedArray(segment.Array!);
        return new PinnedBytes(pinned.Pointer + segment.Offset, segment.Count, pinned);
    }
}
