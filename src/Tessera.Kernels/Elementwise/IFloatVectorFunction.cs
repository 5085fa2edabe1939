using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// An element-wise float32 function at each vector width, for <see cref="FloatVectorMap"/>. Implemented by structs, so
/// the map is compiled once per function with its calls inlined: no virtual call per vector.
/// </summary>
internal interface IFloatVectorFunction
{
    Vector512<float> Apply(Vector512<float> x);

    Vector256<float> Apply(Vector256<float> x);

    Vector128<float> Apply(Vector128<float> x);
}
