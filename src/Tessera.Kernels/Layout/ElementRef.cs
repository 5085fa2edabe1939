using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Layout operators only move elements, so they treat every tensor as an array of same-sized words (byte, ushort,
/// uint, ulong) or of strings; this gives the generic movers a reference to element 0 of either kind.
/// </summary>
internal static unsafe class ElementRef
{
    public static ref T Of<T>(Tensor tensor)
    {
        if (typeof(T) == typeof(string))
        {
            return ref Unsafe.As<string, T>(ref MemoryMarshal.GetArrayDataReference(tensor.Strings));
        }

        return ref Unsafe.AsRef<T>(tensor.Pointer);
    }

    /// <summary>The word the movers use for <paramref name="type"/>: its byte size, or 0 for strings.</summary>
    public static int WordSize(DataType type)
    {
        if (type == DataType.String)
        {
            return 0;
        }

        int size = DataTypes.SizeOf(type);
        return size is 1 or 2 or 4 or 8
            ? size
            : throw new Core.KernelException($"element type {DataTypes.Name(type)} is not supported");
    }
}
