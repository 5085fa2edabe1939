using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Tensors;

/// <summary>
/// A dense, row-major tensor. Numeric data lives in 64-byte aligned memory that never moves, so kernels may
/// take raw pointers to it for the lifetime of the tensor; string tensors hold managed strings instead.
/// </summary>
/// <remarks>
/// Ownership: storage is either a pinned array owned by the garbage collector, shared by every view made with
/// <see cref="Reshape"/>, or memory owned by someone else (<see cref="FromPointer"/>), in which case the
/// owner keeps it alive and valid for as long as the tensor is used. <see cref="Shape"/> must not be mutated.
/// </remarks>
public sealed unsafe partial class Tensor
{
    public const int Alignment = 64;

    // Keeps the storage alive: the pinned byte array, or the owner of external memory. Null only for strings.
    private readonly object? _keepAlive;
    private readonly byte* _data;
    private readonly string[]? _strings;

    private Tensor(DataType dataType, int[] shape, int length, byte* data, object? keepAlive, string[]? strings)
    {
        DataType = dataType;
        Shape = shape;
        Length = length;
        _data = data;
        _keepAlive = keepAlive;
        _strings = strings;
    }

    public DataType DataType { get; }

    /// <summary>Dimensions, outermost first. Treat as read-only: it may be shared with other tensors.</summary>
    public int[] Shape { get; }

    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public int ElementSize => DataTypes.SizeOf(DataType);

    public int ByteLength => Length * ElementSize;

    /// <summary>Address of the first element (64-byte aligned for tensors this type allocated).</summary>
    public byte* Pointer => _data;

    /// <summary>
    /// The object that keeps this tensor's numeric storage alive, following views back to the root owner: the pinned
    /// array of an allocated tensor, or the owner given to <see cref="FromPointer"/>. Two tensors with the same
    /// storage owner may share memory. Null for string tensors.
    /// </summary>
    public object? StorageOwner => _keepAlive is Tensor view ? view.StorageOwner : _keepAlive;

    /// <summary>The backing strings of a <see cref="DataType.String"/> tensor.</summary>
    public string[] Strings => _strings ?? throw new InvalidOperationException($"tensor of {DataTypes.Name(DataType)} holds no strings");

    /// <summary>Allocates a tensor with uninitialized contents.</summary>
    public static Tensor Allocate(DataType dataType, ReadOnlySpan<int> shape) => AllocateCore(dataType, shape.ToArray(), zero: false);

    /// <summary>Allocates a tensor whose elements are all zero (empty strings for string tensors).</summary>
    public static Tensor AllocateZeroed(DataType dataType, ReadOnlySpan<int> shape) => AllocateCore(dataType, shape.ToArray(), zero: true);

    private static Tensor AllocateCore(DataType dataType, int[] shape, bool zero)
    {
        int length = ShapeMath.ElementCount(shape);
        if (dataType == DataType.String)
        {
            var strings = new string[length];
            Array.Fill(strings, string.Empty);
            return new Tensor(dataType, shape, length, null, null, strings);
        }

        int elementSize = DataTypes.SizeOf(dataType);
        if (elementSize == 0)
        {
            throw new NotSupportedException($"data type {DataTypes.Name(dataType)} is not supported");
        }

        long bytes = (long)length * elementSize;
        if (bytes > int.MaxValue - Alignment)
        {
            throw new NotSupportedException($"a tensor of {bytes} bytes is larger than 2 GiB, the largest Tessera stores");
        }

        byte[] storage = zero
            ? GC.AllocateArray<byte>((int)bytes + Alignment, pinned: true)
            : GC.AllocateUninitializedArray<byte>((int)bytes + Alignment, pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage));
        byte* aligned = (byte*)(((nuint)start + Alignment - 1) & ~(nuint)(Alignment - 1));
        return new Tensor(dataType, shape, length, aligned, storage, null);
    }

    /// <summary>Wraps memory owned elsewhere; <paramref name="owner"/> is kept alive by the tensor.</summary>
    public static Tensor FromPointer(DataType dataType, ReadOnlySpan<int> shape, byte* data, object? owner)
    {
        int[] dims = shape.ToArray();
        return new Tensor(dataType, dims, ShapeMath.ElementCount(dims), data, owner, null);
    }

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged
    {
        DataType dataType = DataTypes.FromClrType(typeof(T));
        CheckFills(data.Length, shape);
        var tensor = AllocateCore(dataType, (int[])shape.Clone(), zero: false);
        MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(tensor.Bytes);
        return tensor;
    }

    /// <summary>Copies <paramref name="data"/> into a new string tensor of the given shape.</summary>
    public static Tensor FromStrings(string[] data, params int[] shape)
    {
        CheckFills(data.Length, shape);
        return new Tensor(DataType.String, (int[])shape.Clone(), data.Length, null, null, (string[])data.Clone());
    }

    private static void CheckFills(int count, int[] shape)
    {
        if (ShapeMath.ElementCount(shape) != count)
        {
            throw new ArgumentException($"{count} values do not fill shape {ShapeMath.Format(shape)}");
        }
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar<T>(T value) where T : unmanaged => FromArray(new[] { value });

    /// <summary>The elements as a span of <typeparamref name="T"/>, which must match <see cref="DataType"/> (bool may be read as byte).</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (typeof(T) != DataTypes.ClrType(DataType) && !(DataType == DataType.Bool && typeof(T) == typeof(byte)))
        {
            ThrowHelper.WrongElementType(DataType, typeof(T));
        }

        return new Span<T>(_data, Length);
    }

    /// <summary>The raw little-endian bytes of a numeric tensor.</summary>
    public Span<byte> Bytes => DataType == DataType.String
        ? throw new InvalidOperationException("string tensors have no raw bytes")
        : new Span<byte>(_data, ByteLength);

    /// <summary>A tensor with another shape over the same storage (no copy).</summary>
    public Tensor Reshape(ReadOnlySpan<int> shape)
    {
        int[] dims = shape.ToArray();
        if (ShapeMath.ElementCount(dims) != Length)
        {
            throw new ArgumentException($"cannot view {Length} elements of shape {ShapeMath.Format(Shape)} as {ShapeMath.Format(dims)}");
        }

        return new Tensor(DataType, dims, Length, _data, _keepAlive, _strings);
    }

    /// <summary>A deep copy with its own storage.</summary>
    public Tensor Clone()
    {
        var copy = AllocateCore(DataType, (int[])Shape.Clone(), zero: false);
        if (DataType == DataType.String)
        {
            Strings.CopyTo(copy.Strings, 0);
        }
        else
        {
            Bytes.CopyTo(copy.Bytes);
        }

        return copy;
    }

    public T[] ToArray<T>() where T : unmanaged => Span<T>().ToArray();

    public override string ToString() => $"{DataTypes.Name(DataType)}{ShapeMath.Format(Shape)}";
}
