using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>x &gt;= y.</summary>
internal readonly struct GreaterOrEqualOperator : IComparisonOperator
{
    public bool Invoke<T>(T x, T y) where T : unmanaged, INumber<T> => x >= y;

    public Vector256<T> Invoke<T>(Vector256<T> x, Vector256<T> y) where T : unmanaged, INumber<T> => Vector256.GreaterThanOrEqual(x, y);
}
