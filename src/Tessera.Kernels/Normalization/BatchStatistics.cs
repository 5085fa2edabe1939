using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Normalization;

/// <summary>Per-channel batch mean and (biased) variance over N and the spatial axes, for training-mode BatchNormalization.</summary>
internal static unsafe class BatchStatistics
{
    public static (double[] Mean, double[] Variance) Compute(ParallelRunner parallel, Tensor x, int batch, int channels, int size)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        if (x.DataType == DataType.Float64)
        {
            Run<double>(parallel, x, batch, channels, size, mean, variance);
        }
        else
        {
            Run<float>(parallel, x, batch, channels, size, mean, variance);
        }

        return (mean, variance);
    }

    private static void Run<T>(ParallelRunner parallel, Tensor x, int batch, int channels, int size, double[] mean, double[] variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = (double)batch * size;
        parallel.ForRange(channels, Math.Max(1, 32768 / Math.Max(1, batch * size)), (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++)
                {
                    sum += double.CreateChecked(System.Numerics.Tensors.TensorPrimitives.Sum(Plane<T>(x, n, c, channels, size)));
                }

                double m = count > 0 ? sum / count : 0;
                double squares = 0;
                for (int n = 0; n < batch; n++)
                {
                    squares += double.CreateChecked(NormalizationMath.CenteredSquares(Plane<T>(x, n, c, channels, size), T.CreateChecked(m)));
                }

                mean[c] = m;
                variance[c] = count > 0 ? squares / count : 0;
            }
        });
    }

    private static ReadOnlySpan<T> Plane<T>(Tensor x, int n, int c, int channels, int size)
        where T : unmanaged =>
        new((T*)x.Pointer + ((long)n * channels + c) * size, size);
}
