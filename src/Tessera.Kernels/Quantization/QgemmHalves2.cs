namespace Tessera.Kernels.Quantization;

/// <summary>2 half-panels of 8 columns per tile (<see cref="IQgemmHalfCount"/>).</summary>
internal readonly struct QgemmHalves2 : IQgemmHalfCount
{
    public static int Count => 2;
}
