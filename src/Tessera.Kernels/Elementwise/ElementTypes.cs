using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Type facts the operators test at JIT time (the typeof comparisons fold away per instantiation).</summary>
internal static class ElementTypes
{
    public static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);

    public static KernelException Unsupported(string opType, DataType type) =>
        new($"{opType} does not support element type {DataTypes.Name(type)}");

    public static void RequireSameType(string opType, Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType)
        {
            throw new KernelException($"{opType}: inputs have different element types {DataTypes.Name(a.DataType)} and {DataTypes.Name(b.DataType)}");
        }
    }
}
