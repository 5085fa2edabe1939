using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// Max and sum pooling over NC(D)HW planes, exploiting that a box window is separable: for each output row the
/// input rows of the window are first combined into one row with contiguous SIMD span operations, and that row
/// is then reduced horizontally (shifted SIMD spans for stride 1, a deinterleaving or scalar loop otherwise). Float max
/// pools with a 3-wide stride-2 window take <see cref="StridedMaxRow"/> with AVX-512 instead (both steps in registers).
/// Work is split over output rows (plane, od, oh), so small batches still use every thread.
/// </summary>
internal static unsafe class SeparablePool
{
    /// <summary>Pools output rows [rowStart, rowEnd) of a whole tensor. <paramref name="scratch"/> needs In(W) elements.</summary>
    /// <param name="averageDivisors">For averages: the inverse horizontal divisors per output column and the vertical
    /// divisor source (counts including pads or not); null for max pooling.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TOp>(PoolGeometry g, T* input, T* output, int rowStart, int rowEnd, Span<T> scratch,
        AverageDivisors<T>? averageDivisors)
        where T : unmanaged, INumber<T>
        where TOp : struct, IPoolReduction<T>
    {
        int inH = g.In(1), inW = g.In(2);
        int outD = g.Out(0), outH = g.Out(1), outW = g.Out(2);
        int dilD = g.Dilation(0), dilH = g.Dilation(1);
        int[] firstD = g.First(0), countD = g.Count(0), firstH = g.First(1), countH = g.Count(1);
        int inPlane = g.InputPlaneSize, outPlane = g.OutputPlaneSize;
        int rowsPerPlane = outD * outH;
        var horizontal = new HorizontalPool<T, TOp>(g);
        Span<T> row = scratch[..inW];
        bool stridedMax = typeof(T) == typeof(float) && typeof(TOp) == typeof(MaxReduction<float>) && StridedMaxRow.Applies(g);

        for (int r = rowStart; r < rowEnd; r++)
        {
            int plane = r / rowsPerPlane;
            int rem = r - plane * rowsPerPlane;
            int od = rem / outH, oh = rem - od * outH;
            T* planeIn = input + (long)plane * inPlane;
            var dest = new Span<T>(output + (long)plane * outPlane + (long)rem * outW, outW);

            int taps = countD[od] * countH[oh];
            if (taps == 0)
            {
                dest.Fill(TOp.Empty);
                continue;
            }

            if (stridedMax && countD[od] == 1)
            {
                T* top = planeIn + ((long)firstD[od] * inH + firstH[oh]) * inW;
                T* second = countH[oh] > 1 ? top + (long)dilH * inW : top;
                T* third = countH[oh] > 2 ? top + 2L * dilH * inW : second;
                StridedMaxRow.Run((float*)top, (float*)second, (float*)third, inW, g.PadBegin(2), (float*)output + (long)plane * outPlane + (long)rem * outW, outW);
                continue;
            }

            ReadOnlySpan<T> source;
            if (taps == 1)
            {
                source = new ReadOnlySpan<T>(planeIn + ((long)firstD[od] * inH + firstH[oh]) * inW, inW);
            }
            else
            {
                // The first window row is held back so the second combines straight into the scratch row (no copy).
                T* firstRow = null;
                bool combined = false;
                for (int td = 0; td < countD[od]; td++)
                {
                    T* slice = planeIn + (long)(firstD[od] + td * dilD) * inH * inW;
                    for (int th = 0; th < countH[oh]; th++)
                    {
                        T* inputRow = slice + (long)(firstH[oh] + th * dilH) * inW;
                        if (firstRow == null)
                        {
                            firstRow = inputRow;
                        }
                        else
                        {
                            ReadOnlySpan<T> left = combined ? row : new ReadOnlySpan<T>(firstRow, inW);
                            TOp.Combine(left, new ReadOnlySpan<T>(inputRow, inW), row);
                            combined = true;
                        }
                    }
                }

                source = row;
            }

            horizontal.Reduce(source, dest);
            averageDivisors?.Apply(dest, od, oh);
        }
    }
}
