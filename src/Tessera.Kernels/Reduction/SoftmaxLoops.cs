using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// Softmax and LogSoftmax along the middle axis of a [outer, reduced, inner] block, subtracting the maximum
/// first so large inputs do not overflow. Contiguous rows (inner == 1) run entirely on vector primitives;
/// otherwise the per-column maximum and sum are kept in rows of length inner and combined with vector ops.
/// </summary>
internal static class SoftmaxLoops
{
    public static void Rows<T>(ReadOnlySpan<T> source, Span<T> destination, int o0, int o1, int reduced, int inner,
        int c0, int c1, bool log, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduced == 0)
        {
            return;
        }

        if (inner == 1 && !log && typeof(T) == typeof(float))
        {
            FloatRows(MemoryMarshal.Cast<T, float>(source), MemoryMarshal.Cast<T, float>(destination), o0, o1, reduced);
            return;
        }

        if (inner == 1)
        {
            for (int o = o0; o < o1; o++)
            {
                var x = source.Slice(o * reduced, reduced);
                var y = destination.Slice(o * reduced, reduced);
                T max = TensorPrimitives.Max(x);
                TensorPrimitives.Subtract(x, max, y);
                TensorPrimitives.Exp(y, y);
                T sum = TensorPrimitives.Sum(y);
                if (log)
                {
                    TensorPrimitives.Subtract(x, max + T.Log(sum), y);
                }
                else if (typeof(T) == typeof(float))
                {
                    // One reciprocal and a multiply: within an ulp of dividing, and much cheaper per element.
                    TensorPrimitives.Multiply(y, T.One / sum, y);
                }
                else
                {
                    TensorPrimitives.Divide(y, sum, y);
                }
            }

            return;
        }

        int width = c1 - c0;
        var maxRow = scratch.Slice(0, width);
        var sumRow = scratch.Slice(width, width);
        int block = reduced * inner;
        for (int o = o0; o < o1; o++)
        {
            var x = source.Slice(o * block + c0);
            var y = destination.Slice(o * block + c0);
            x.Slice(0, width).CopyTo(maxRow);
            for (int j = 1; j < reduced; j++)
            {
                TensorPrimitives.Max(maxRow, x.Slice(j * inner, width), maxRow);
            }

            sumRow.Clear();
            for (int j = 0; j < reduced; j++)
            {
                var yj = y.Slice(j * inner, width);
                TensorPrimitives.Subtract(x.Slice(j * inner, width), maxRow, yj);
                TensorPrimitives.Exp(yj, yj);
                TensorPrimitives.Add(sumRow, yj, sumRow);
            }

            if (log)
            {
                // log-sum-exp per column, then y = x - lse.
                TensorPrimitives.Log(sumRow, sumRow);
                TensorPrimitives.Add(sumRow, maxRow, sumRow);
                for (int j = 0; j < reduced; j++)
                {
                    TensorPrimitives.Subtract(x.Slice(j * inner, width), sumRow, y.Slice(j * inner, width));
                }
            }
            else if (typeof(T) == typeof(float))
            {
                TensorPrimitives.Reciprocal(sumRow, sumRow);
                for (int j = 0; j < reduced; j++)
                {
                    var yj = y.Slice(j * inner, width);
                    TensorPrimitives.Multiply(yj, sumRow, yj);
                }
            }
            else
            {
                for (int j = 0; j < reduced; j++)
                {
                    var yj = y.Slice(j * inner, width);
                    TensorPrimitives.Divide(yj, sumRow, yj);
                }
            }
        }
    }

    private static unsafe void FloatRows(ReadOnlySpan<float> source, Span<float> destination, int o0, int o1, int reduced)
    {
        fixed (float* x = source)
        fixed (float* y = destination)
        {
            for (int o = o0; o < o1; o++)
            {
                SoftmaxRow.Run(x + (long)o * reduced, y + (long)o * reduced, reduced);
            }
        }
    }
}
