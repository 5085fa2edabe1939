using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>The loops of one [outer, reduced, inner] reduction pass, split over threads when the work is large.</summary>
internal static class ReduceLoops
{
    /// <summary>Elements of work below which a pass stays on the calling thread.</summary>
    public const int ParallelThreshold = 1 << 15;

    // Below this many columns a row is too short for the vector row operations to pay for their calls.
    private const int VectorRowMinimum = 16;

    public static void Pass<T, TOp>(Tensor source, Tensor destination, int outer, int reduced, int inner, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
        where TOp : IReduceOp<T>
    {
        long work = (long)outer * Math.Max(reduced, 1) * inner;
        if (parallel.Degree == 1 || work < ParallelThreshold)
        {
            Rows<T, TOp>(source.Span<T>(), destination.Span<T>(), 0, outer, reduced, inner, 0, inner);
            return;
        }

        long perOuter = (long)Math.Max(reduced, 1) * inner;
        if (outer >= 2 * parallel.Degree || inner < 4 * VectorRowMinimum)
        {
            int minChunk = (int)Math.Clamp(ParallelThreshold / perOuter, 1, outer);
            var body = new Body<T, TOp>(source, destination, outer, reduced, inner, true);
            parallel.ForRange(outer, minChunk, ref body);
        }
        else
        {
            // Few outer rows but wide ones: split the columns, each thread owning a slice of every output row.
            long perColumn = (long)outer * Math.Max(reduced, 1);
            int minChunk = (int)Math.Clamp(ParallelThreshold / perColumn, VectorRowMinimum, inner);
            var body = new Body<T, TOp>(source, destination, outer, reduced, inner, false);
            parallel.ForRange(inner, minChunk, ref body);
        }
    }

    /// <summary>Reduces outer rows [o0, o1) and columns [c0, c1) of a [outer, reduced, inner] block.</summary>
    public static void Rows<T, TOp>(ReadOnlySpan<T> source, Span<T> destination, int o0, int o1, int reduced, int inner, int c0, int c1)
        where T : unmanaged, INumber<T>
        where TOp : IReduceOp<T>
    {
        int width = c1 - c0;
        if (reduced == 0)
        {
            for (int o = o0; o < o1; o++)
            {
                destination.Slice(o * inner + c0, width).Fill(TOp.Identity);
            }

            return;
        }

        if (inner == 1 && reduced < VectorRowMinimum)
        {
            for (int o = o0; o < o1; o++)
            {
                var row = source.Slice(o * reduced, reduced);
                T acc = TOp.First(row[0]);
                for (int j = 1; j < row.Length; j++)
                {
                    acc = TOp.Combine(acc, row[j]);
                }

                destination[o] = acc;
            }

            return;
        }

        if (inner == 1)
        {
            for (int o = o0; o < o1; o++)
            {
                destination[o] = TOp.ReduceRow(source.Slice(o * reduced, reduced));
            }

            return;
        }

        int block = reduced * inner;
        for (int o = o0; o < o1; o++)
        {
            var acc = destination.Slice(o * inner + c0, width);
            var rows = source.Slice(o * block + c0);
            if (width >= VectorRowMinimum)
            {
                TOp.FirstRow(rows.Slice(0, width), acc);
                for (int j = 1; j < reduced; j++)
                {
                    TOp.CombineRow(rows.Slice(j * inner, width), acc);
                }
            }
            else
            {
                for (int c = 0; c < width; c++)
                {
                    acc[c] = TOp.First(rows[c]);
                }

                for (int j = 1; j < reduced; j++)
                {
                    var row = rows.Slice(j * inner, width);
                    for (int c = 0; c < width; c++)
                    {
                        acc[c] = TOp.Combine(acc[c], row[c]);
                    }
                }
            }
        }
    }

    private readonly struct Body<T, TOp>(Tensor source, Tensor destination, int outer, int reduced, int inner, bool byOuter) : IRangeBody
        where T : unmanaged, INumber<T>
        where TOp : IReduceOp<T>
    {
        public void Invoke(int start, int end)
        {
            if (byOuter)
            {
                Rows<T, TOp>(source.Span<T>(), destination.Span<T>(), start, end, reduced, inner, 0, inner);
            }
            else
            {
                Rows<T, TOp>(source.Span<T>(), destination.Span<T>(), 0, outer, reduced, inner, start, end);
            }
        }
    }
}
