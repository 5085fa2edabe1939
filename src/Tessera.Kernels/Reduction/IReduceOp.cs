using System.Numerics;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// One associative reduction, as static members so the loops specialise per operation without calls.
/// <see cref="First"/> maps an element before it joins an accumulator (squaring for sums of squares).
/// </summary>
internal interface IReduceOp<T> where T : unmanaged, INumber<T>
{
    static abstract T Identity { get; }

    static abstract T First(T x);

    static abstract T Combine(T accumulator, T x);

    /// <summary>Reduces a non-empty contiguous row.</summary>
    static abstract T ReduceRow(ReadOnlySpan<T> row);

    static abstract void FirstRow(ReadOnlySpan<T> source, Span<T> accumulator);

    static abstract void CombineRow(ReadOnlySpan<T> source, Span<T> accumulator);
}
