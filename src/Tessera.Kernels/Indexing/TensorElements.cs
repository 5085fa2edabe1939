using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>How a data-movement kernel should view a tensor's elements: as raw words of its size, or as strings.</summary>
internal enum ElementKind
{
    Size1,
    Size2,
    Size4,
    Size8,
    String,
}

/// <summary>
/// Views tensor storage as same-sized words (or strings) so data-movement kernels are written once per element
/// size instead of once per element type.
/// </summary>
internal static unsafe class TensorElements
{
    public static ElementKind KindOf(DataType type) => type == DataType.String
        ? ElementKind.String
        : DataTypes.SizeOf(type) switch
        {
            1 => ElementKind.Size1,
            2 => ElementKind.Size2,
            4 => ElementKind.Size4,
            8 => ElementKind.Size8,
            _ => throw new Core.KernelException($"data type {DataTypes.Name(type)} is not supported"),
        };

    /// <summary>The elements as <typeparamref name="T"/>: string for string tensors, else a word type of the element's size.</summary>
    public static Span<T> As<T>(Tensor tensor)
    {
        if (typeof(T) == typeof(string))
        {
            string[] strings = tensor.Strings;
            return MemoryMarshal.CreateSpan(ref Unsafe.As<string, T>(ref MemoryMarshal.GetArrayDataReference(strings)), strings.Length);
        }

        return MemoryMarshal.CreateSpan(ref Unsafe.AsRef<T>(tensor.Pointer), tensor.Length);
    }

    /// <summary>Copies <paramref name="count"/> elements between tensors of the same type (either may be a string tensor).</summary>
    public static void Copy(Tensor source, long sourceIndex, Tensor destination, long destinationIndex, long count)
    {
        if (count <= 0)
        {
            return;
        }

        if (source.DataType == DataType.String)
        {
            Array.Copy(source.Strings, sourceIndex, destination.Strings, destinationIndex, count);
            return;
        }

        long size = source.ElementSize;
        Buffer.MemoryCopy(source.Pointer + sourceIndex * size, destination.Pointer + destinationIndex * size, count * size, count * size);
    }
}
