using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// A unary operator on floating-point elements (float, double, Half; bfloat16 is widened to float by the kernel).
/// <see cref="Invoke{T}(T)"/> is the scalar definition; TryInvoke is the whole-run fast path, false when there is none.
/// </summary>
internal interface IFloatUnaryOperator
{
    T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>;

    bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>;
}
