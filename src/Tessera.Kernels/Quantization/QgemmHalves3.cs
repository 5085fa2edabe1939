namespace Tessera.Kernels.Quantization;

/// <summary>3 half-panels of 8 columns per tile (<see cref="IQgemmHalfCount"/>).</summary>
internal readonly struct QgemmHalves3 : IQgemmHalfCount
{
    public static int Count => 3;
}
