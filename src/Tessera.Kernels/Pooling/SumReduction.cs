using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Pooling;

internal readonly struct SumReduction<T> : IPoolReduction<T>
    where T : unmanaged, INumber<T>
{
    public static T Combine(T a, T b) => a + b;

    public static void Combine(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest) => TensorPrimitives.Add(x, y, dest);

    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;

    public static T Empty => T.Zero;
}
