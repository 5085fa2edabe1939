namespace Tessera.Kernels.Quantization;

/// <summary>1 half-panel of 8 columns per tile (<see cref="IQgemmHalfCount"/>).</summary>
internal readonly struct QgemmHalves1 : IQgemmHalfCount
{
    public static int Count => 1;
}
