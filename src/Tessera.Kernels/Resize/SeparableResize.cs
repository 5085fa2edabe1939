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

    /// <param name="scratch">Two buffers the caller keeps between calls; they grow to the largest intermediate size.</param>
    public static void Run(Tensor input, Tensor output, AxisTaps[] taps, double extrapolation, ParallelRunner parallel, double[]?[] scratch)
    {
        int rank = taps.Length;
        Span<int> shape = stackalloc int[rank];
        input.Shape.CopyTo(shape);
        long largest = input.Length;
        for (int d = 0; d < rank; d++)
        {
            if (!taps[d].IsIdentity)
            {
                shape[d] = taps[d].OutSize;
                largest = Math.Max(largest, ShapeMath.ElementCount(shape));
            }
        }

        for (int i = 0; i < 2; i++)
        {
            if (scratch[i] is null || scratch[i]!.Length < largest)
            {
                scratch[i] = new double[largest];
            }
        }

        double[] current = scratch[0]!, next = scratch[1]!;
        ResizeValues.ToDoubles(input, current.AsSpan(0, input.Length));
        input.Shape.CopyTo(shape);
        int length = input.Length;
        for (int d = 0; d < rank; d++)
        {
            if (!taps[d].IsIdentity)
            {
                length = Axis(current, next, shape, d, taps[d], extrapolation, parallel);
                shape[d] = taps[d].OutSize;
                (current, next) = (next, current);
            }
        }

        ResizeValues.FromDoubles(current.AsSpan(0, length), output);
    }

    /// <summary>Resamples axis <paramref name="axis"/> of <paramref name="source"/> into <paramref name="result"/>; returns the result's length.</summary>
    private static int Axis(double[] source, double[] result, ReadOnlySpan<int> shape, int axis, AxisTaps taps, double extrapolation, ParallelRunner parallel)
    {
        int outer = ShapeMath.Product(shape, 0, axis);
        int inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        int length = outer * taps.OutSize * inner;
        var body = new Body(source, result, taps, shape[axis], inner, extrapolation);
        int items = outer * taps.OutSize;
        if (length < ParallelElements || parallel.Degree == 1)
        {
            body.Invoke(0, items);
        }
        else
        {
            parallel.ForRange(items, Math.Max(1, (int)((long)ParallelElements * items / length)), ref body);
        }

        return length;
    }

    private readonly struct Body(double[] source, double[] result, AxisTaps taps, int inSize, int inner, double extrapolation) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            int outSize = taps.OutSize;
            int tapCount = taps.TapCount;
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
    }
}
