using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>Work to run for one numeric element type, chosen at run time by <see cref="TypeDispatch"/>.</summary>
internal interface INumericTypeAction
{
    void Invoke<T>() where T : unmanaged, INumber<T>;
}
