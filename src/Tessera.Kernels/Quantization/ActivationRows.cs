using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Quantization;

/// <summary>A quantized product's fused activation over its finished output rows (<see cref="QgemmOutput.Activation"/>).</summary>
internal readonly unsafe struct ActivationRows(float* y, int n, nint rowStride, FusedActivation activation) : IRangeBody
{
    /// <summary>Applies <paramref name="activation"/> to m rows of n floats, <paramref name="rowStride"/> floats apart.</summary>
    public static void Apply(float* y, int m, int n, nint rowStride, FusedActivation activation, ParallelRunner parallel)
    {
        var body = new ActivationRows(y, n, rowStride, activation);
        ((long)m * n < 1 << 14 ? ParallelRunner.Sequential : parallel).ForRange(m, 1, ref body);
    }

    /// <summary>
    /// Rows [start, end), each on its own: a whole row's bits are then the same whether a GEMM block or a pass after
    /// the product applies it (the transcendental activations treat a run's last partial vector differently).
    /// </summary>
    public static void ApplyRange(float* y, int start, int end, int n, nint rowStride, FusedActivation activation)
    {
        for (int r = start; r < end; r++) activation.Apply(new Span<float>(y + (r * rowStride), n));
    }

    public void Invoke(int start, int end) => ApplyRange(y, start, end, n, rowStride, activation);
}
