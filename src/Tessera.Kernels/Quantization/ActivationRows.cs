using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Quantization;

/// <summary>A quantized product's fused activation over its finished output rows.</summary>
internal readonly unsafe struct ActivationRows(float* y, int n, FusedActivation activation) : IRangeBody
{
    /// <summary>
    /// Applies <paramref name="activation"/> to m rows of n floats: whole rows after the product, so the rows' bits do
    /// not depend on how the GEMM split its tiles.
    /// </summary>
    public static void Apply(float* y, int m, int n, FusedActivation activation, ParallelRunner parallel)
    {
        var body = new ActivationRows(y, n, activation);
        ((long)m * n < 1 << 14 ? ParallelRunner.Sequential : parallel).ForRange(m, 1, ref body);
    }

    public void Invoke(int start, int end) => activation.Apply(new Span<float>(y + (long)start * n, (end - start) * n));
}
