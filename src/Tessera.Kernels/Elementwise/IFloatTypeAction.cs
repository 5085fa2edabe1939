using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>Work to run for one floating-point element type, chosen at run time by <see cref="TypeDispatch"/>.</summary>
internal interface IFloatTypeAction
{
    void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}
