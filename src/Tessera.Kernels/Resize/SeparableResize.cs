using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>
/// Linear or cubic resize of any rank, one axis at a time in double precision (the interpolation is separable,
/// as the reference applies it). Axes that map identically are skipped; each resampled axis blends whole
/// contiguous inner blocks, so the inner loop is a SIMD multiply-add.
/// </summary>
internal static class SeparableResize
{
    private const int ParallelElements = 1 << 15;

    public static void Run(Tensor input, Tensor output, AxisTaps[] taps, double extrapolation, ParallelRunner parallel)
    {
        double[] current = ResizeValues.ToDoubles(input);
        int[] shape = (int[])input.Shape.Clone();
        for (int d = 0; d < taps.Length; d++)
        {
            if (!taps[d].IsIdentity)
            {
                current = Axis(current, shape, d, taps[d], extrapolation, parallel);
                shape[d] = taps[d].OutSize;
            }
        }

        ResizeValues.FromDoubles(current, output);
    }

    private static double[] Axis(double[] source, int[] shape, int axis, AxisTaps taps, double extrapolation, ParallelRunner parallel)
    {
        int outer = ShapeMath.Product(shape, 0, axis);
        int inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        int inSize = shape[axis];
        int outSize = taps.OutSize;
        var result = new double[(long)outer * outSize * inner];
        int tapCount = taps.TapCount;

        void Body(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                int o = item / outSize;
                int j = item - o * outSize;
                Span<double> target = result.AsSpan(item * inner, inner);
                if (taps.Outside?[j] == true)
                {
                    target.Fill(extrapolation);
                    continue;
                }

                target.Clear();
                for (int t = 0; t < tapCount; t++)
                {
                    double weight = taps.Weight[j * tapCount + t];
                    if (weight != 0)
                    {
                        var from = new ReadOnlySpan<double>(source, (o * inSize + taps.Index[j * tapCount + t]) * inner, inner);
                        TensorPrimitives.MultiplyAdd(from, weight, target, target);
                    }
                }
            }
        }

        int items = outer * outSize;
        if ((long)result.Length < ParallelElements || parallel.Degree == 1)
        {
            Body(0, items);
        }
        else
        {
            parallel.ForRange(items, Math.Max(1, (int)((long)ParallelElements * items / result.Length)), Body);
        }

        return result;
    }
}
