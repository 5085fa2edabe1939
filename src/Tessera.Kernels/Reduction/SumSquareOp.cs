using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Reduction;

internal readonly struct SumSquareOp<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.Zero;

    public static T First(T x) => x * x;

    public static T Combine(T accumulator, T x) => accumulator + x * x;

    public static T ReduceRow(ReadOnlySpan<T> row) => TensorPrimitives.SumOfSquares(row);

    public static void FirstRow(ReadOnlySpan<T> source, Span<T> accumulator) => TensorPrimitives.Multiply(source, source, accumulator);

    public static void CombineRow(ReadOnlySpan<T> source, Span<T> accumulator) =>
        TensorPrimitives.MultiplyAdd(source, source, accumulator, accumulator);
}
