using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>A comparison producing bool; the vector form returns an all-ones lane where the comparison holds.</summary>
internal interface IComparisonOperator
{
    bool Invoke<T>(T x, T y) where T : unmanaged, INumber<T>;

    Vector256<T> Invoke<T>(Vector256<T> x, Vector256<T> y) where T : unmanaged, INumber<T>;
}
