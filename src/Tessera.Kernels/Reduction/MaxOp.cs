using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>Maximum; NaN propagates as in NumPy, and the empty maximum is -inf (the type's minimum for integers).</summary>
internal readonly struct MaxOp<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.NegativeInfinity);

    public static T First(T x) => x;

    public static T Combine(T accumulator, T x) => T.Max(accumulator, x);

    public static T ReduceRow(ReadOnlySpan<T> row) => TensorPrimitives.Max(row);

    public static void FirstRow(ReadOnlySpan<T> source, Span<T> accumulator) => source.CopyTo(accumulator);

    public static void CombineRow(ReadOnlySpan<T> source, Span<T> accumulator) => TensorPrimitives.Max(accumulator, source, accumulator);
}
