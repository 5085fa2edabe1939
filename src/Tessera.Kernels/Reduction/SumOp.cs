using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Reduction;

internal readonly struct SumOp<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.Zero;

    public static T First(T x) => x;

    public static T Combine(T accumulator, T x) => accumulator + x;

    public static T ReduceRow(ReadOnlySpan<T> row) => TensorPrimitives.Sum(row);

    public static void FirstRow(ReadOnlySpan<T> source, Span<T> accumulator) => source.CopyTo(accumulator);

    public static void CombineRow(ReadOnlySpan<T> source, Span<T> accumulator) => TensorPrimitives.Add(accumulator, source, accumulator);
}
