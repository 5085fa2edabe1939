using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Quantization;

/// <summary>A quantized product's fused activation over its finished output rows (<see cref="QgemmOutput.Activation"/>).</summary>
internal readonly unsafe struct ActivationRows(float* y, int n, nint rowStride, FusedActivation activation, float* ranges) : IRangeBody
{
    /// <summary>
    /// Applies <paramref name="activation"/> to m rows of n floats, <paramref name="rowStride"/> floats apart, and
    /// where <paramref name="ranges"/> is not null writes each row's range after it there (see <see cref="ApplyRange"/>).
    /// </summary>
    public static void Apply(float* y, int m, int n, nint rowStride, FusedActivation activation, ParallelRunner parallel, float* ranges = null)
    {
        var body = new ActivationRows(y, n, rowStride, activation, ranges);
        ((long)m * n < 1 << 14 ? ParallelRunner.Sequential : parallel).ForRange(m, 1, ref body);
    }

    /// <summary>
    /// Rows [start, end), each on its own: a whole row's bits are then the same whether a GEMM block or a pass after
    /// the product applies it (the transcendental activations treat a run's last partial vector differently).
    /// </summary>
    /// <remarks>
    /// Where <paramref name="ranges"/> is not null, row r's smallest and largest value after the activation go to
    /// ranges[2r] and ranges[2r + 1] (both NaN if the row holds a NaN, as <see cref="FloatRange"/> gives them), read
    /// from the row while it is in L1.
    /// </remarks>
    public static void ApplyRange(float* y, int start, int end, int n, nint rowStride, FusedActivation activation, float* ranges = null)
    {
        for (int r = start; r < end; r++)
        {
            var row = new Span<float>(y + (r * rowStride), n);
            activation.Apply(row);
            if (ranges is not null) (ranges[2 * r], ranges[(2 * r) + 1]) = FloatRange.Of(row);
        }
    }

    /// <summary>The range of m rows from their rows' ranges (NaN if any row's is), as one pass over them would give it.</summary>
    public static (float Min, float Max) Merge(float* ranges, int m)
    {
        float min = ranges[0], max = ranges[1];
        for (int r = 1; r < m; r++)
        {
            // MathF.Min/Max propagate NaN, as FloatRange's merge of its chunks does.
            min = MathF.Min(min, ranges[2 * r]);
            max = MathF.Max(max, ranges[(2 * r) + 1]);
        }

        return (min, max);
    }

    public void Invoke(int start, int end) => ApplyRange(y, start, end, n, rowStride, activation, ranges);
}
