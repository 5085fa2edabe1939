using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// A binary operator defined for every numeric element type. <see cref="Invoke{T}(T, T)"/> is the scalar
/// definition; the TryInvoke overloads are whole-run fast paths (SIMD, TensorPrimitives) that return false
/// when they have none for <typeparamref name="T"/>, in which case the scalar definition is looped.
/// </summary>
internal interface INumericBinaryOperator
{
    T Invoke<T>(T x, T y) where T : unmanaged, INumber<T>;

    bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>;

    bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>;

    bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>;
}
