using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// Stride-1 2-D pooling of small planes (e.g. 3x3/5x5 stride-1 pools on 7..64-wide maps, as in Inception or
/// YOLO's SPP). Because the rows of a plane are contiguous, a stride-1 window combines whole blocks of rows with
/// one span operation per tap instead of one per tap and row, which dominates when rows are short.
/// </summary>
internal static unsafe class PlanePool
{
    /// <summary>Whether <see cref="Run"/> applies: no depth window, stride 1 and no dilation along H, stride 1 along W, short rows.</summary>
    public static bool Applies(PoolGeometry g) =>
        g.Kernel(0) == 1 && g.Stride(0) == 1 && g.Stride(1) == 1 && g.Dilation(1) == 1 && g.Stride(2) == 1 && g.In(2) <= 64
        && g.Kernel(1) * g.Kernel(2) > 1;

    /// <summary>Pools planes × depth slices [start, end); each scratch buffer needs Out(1) * In(2) elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TOp>(PoolGeometry g, T* input, T* output, int start, int end, Span<T> vertical, Span<T> horizontal,
        AverageDivisors<T>? averageDivisors)
        where T : unmanaged, INumber<T>
        where TOp : struct, IPoolReduction<T>
    {
        int inH = g.In(1), inW = g.In(2), outH = g.Out(1), outW = g.Out(2);
        int kH = g.Kernel(1), kW = g.Kernel(2), dW = g.Dilation(2);
        int[] firstH = g.First(1), countH = g.Count(1), firstD = g.First(0);
        g.InteriorRange(1, out int rowLo, out int rowHi);
        var rowPool = new HorizontalPool<T, TOp>(g);
        int colLo = rowPool.InteriorLo, colHi = rowPool.InteriorHi;
        Span<T> v = vertical[..(outH * inW)];
        int combinedLength = outH * inW - (kW - 1) * dW;

        for (int slice = start; slice < end; slice++)
        {
            // slice = plane * outD + od; with a 1-deep window each output depth reads exactly input depth firstD[od].
            int plane = slice / g.Out(0), od = slice - plane * g.Out(0);
            T* x = input + (long)plane * g.InputPlaneSize + (long)firstD[od] * inH * inW;
            T* y = output + (long)slice * outH * outW;
            if (g.Count(0)[od] == 0)
            {
                new Span<T>(y, outH * outW).Fill(TOp.Empty);
                continue;
            }

            // Vertical: the interior output rows as one block per tap, the edge rows one by one.
            if (rowHi > rowLo)
            {
                int length = (rowHi - rowLo) * inW;
                var block = v.Slice(rowLo * inW, length);
                T* top = x + (long)firstH[rowLo] * inW;
                if (kH == 1)
                {
                    new ReadOnlySpan<T>(top, length).CopyTo(block);
                }
                else
                {
                    TOp.Combine(new ReadOnlySpan<T>(top, length), new ReadOnlySpan<T>(top + inW, length), block);
                    for (int t = 2; t < kH; t++)
                    {
                        TOp.Combine(block, new ReadOnlySpan<T>(top + (long)t * inW, length), block);
                    }
                }
            }

            for (int oh = 0; oh < outH; oh++)
            {
                if (oh >= rowLo && oh < rowHi)
                {
                    continue;
                }

                var row = v.Slice(oh * inW, inW);
                if (countH[oh] == 0)
                {
                    row.Fill(TOp.Empty);
                    continue;
                }

                new ReadOnlySpan<T>(x + (long)firstH[oh] * inW, inW).CopyTo(row);
                for (int t = 1; t < countH[oh]; t++)
                {
                    TOp.Combine(row, new ReadOnlySpan<T>(x + (long)(firstH[oh] + t) * inW, inW), row);
                }
            }

            // Horizontal: every tap over the whole buffer at once (values straddling rows are never read), then
            // each output row takes its interior from that and computes its edges from its own vertical row.
            ReadOnlySpan<T> h = v;
            if (kW > 1 && combinedLength > 0)
            {
                Span<T> hs = horizontal[..combinedLength];
                TOp.Combine(v[..combinedLength], v.Slice(dW, combinedLength), hs);
                for (int t = 2; t < kW; t++)
                {
                    TOp.Combine(hs, v.Slice(t * dW, combinedLength), hs);
                }

                h = hs;
            }

            for (int oh = 0; oh < outH; oh++)
            {
                var dest = new Span<T>(y + (long)oh * outW, outW);
                var row = v.Slice(oh * inW, inW);
                if (colHi > colLo)
                {
                    h.Slice(oh * inW + g.First(2)[colLo], colHi - colLo).CopyTo(dest[colLo..colHi]);
                }

                rowPool.ReduceEdges(row, dest);
                averageDivisors?.Apply(dest, od, oh);
            }
        }
    }
}
