using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>Minimum; NaN propagates as in NumPy, and the empty minimum is +inf (the type's maximum for integers).</summary>
internal readonly struct MinOp<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.PositiveInfinity);

    public static T First(T x) => x;

    public static T Combine(T accumulator, T x) => T.Min(accumulator, x);

    public static T ReduceRow(ReadOnlySpan<T> row) => TensorPrimitives.Min(row);

    public static void FirstRow(ReadOnlySpan<T> source, Span<T> accumulator) => source.CopyTo(accumulator);

    public static void CombineRow(ReadOnlySpan<T> source, Span<T> accumulator) => TensorPrimitives.Min(accumulator, source, accumulator);
}
