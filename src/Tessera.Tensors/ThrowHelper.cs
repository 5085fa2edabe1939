using System.Diagnostics.CodeAnalysis;

namespace Tessera.Tensors;

/// <summary>Throw sites kept out of hot paths so that callers stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void WrongElementType(DataType actual, Type requested) =>
        throw new InvalidOperationException($"tensor holds {DataTypes.Name(actual)}, not {requested.Name}");
}
