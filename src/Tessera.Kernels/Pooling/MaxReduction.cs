using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Pooling;

internal readonly struct MaxReduction<T> : IPoolReduction<T>
    where T : unmanaged, INumber<T>, IMinMaxValue<T>
{
    // A plain comparison rather than T.Max: pooling need not order NaN against NaN, and this keeps scalar loops tight.
    public static T Combine(T a, T b) => b > a ? b : a;

    public static void Combine(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest) => TensorPrimitives.Max(x, y, dest);

    // ONNX Runtime's choice for a window wholly inside padding: the lowest finite value.
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => Vector128.MaxNative(a, b);

    public static T Empty => T.MinValue;
}
