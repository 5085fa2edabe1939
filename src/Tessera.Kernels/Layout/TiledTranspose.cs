using System.Runtime.CompilerServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// The strided copy for views whose source-contiguous axis is not the destination's innermost one (a transpose
/// that moves the last axis). Each batch is a 2-D plane — i along the destination's last axis, j along the source's
/// unit-stride axis — copied in cache-sized blocks of SIMD register tiles, so both sides are read and written in
/// whole cache lines.
/// </summary>
internal static class TiledTranspose
{
    private const int Block = 32;

    public static void Run<T>(Tensor source, int offset, ReadOnlySpan<int> dims, ReadOnlySpan<int> steps, int unitAxis, Tensor destination, ParallelRunner parallel)
    {
        int n = dims.Length;
        int rows = dims[n - 1];
        Span<int> dstStrides = stackalloc int[n];
        StridedCopy.StridesInto(dims, dstStrides);
        var plane = new Plane(rows, steps[n - 1], dims[unitAxis], dstStrides[unitAxis]);

        int batchRank = n - 2;
        Span<int> batchDims = stackalloc int[batchRank];
        Span<int> batchSource = stackalloc int[batchRank];
        Span<int> batchDestination = stackalloc int[batchRank];
        for (int k = 0, b = 0; k < n - 1; k++)
        {
            if (k != unitAxis)
            {
                batchDims[b] = dims[k];
                batchSource[b] = steps[k];
                batchDestination[b] = dstStrides[k];
                b++;
            }
        }

        // A work unit is one batch's span of j; spans hold about 4K elements so tiny planes still amortise the
        // per-unit index arithmetic.
        int span = Math.Min(RoundUp(Math.Max(Block, 4096 / Math.Max(1, rows)), Block), RoundUp(plane.Columns, Block));
        int spans = (plane.Columns + span - 1) / span;
        int batches = ShapeMath.Product(batchDims, 0, batchRank);
        int units = batches * spans;
        int wordBytes = typeof(T) == typeof(string) ? 8 : Unsafe.SizeOf<T>();
        int minUnits = (int)Math.Max(1, StridedCopy.ParallelBytes / Math.Max(1, (long)span * rows * wordBytes));
        var batch = new BatchAxes(batchDims, batchSource, batchDestination);
        if (units < 2 * minUnits || parallel.Degree == 1 || batchRank > AxisArray.Capacity)
        {
            RunUnits<T>(source, offset, destination, plane, batch, span, spans, 0, units);
            return;
        }

        var body = new UnitsBody<T>(source, offset, destination, plane, AxisArray.From(batchDims), AxisArray.From(batchSource),
            AxisArray.From(batchDestination), batchRank, span, spans);
        parallel.ForRange(units, minUnits, ref body);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void RunUnits<T>(Tensor source, int offset, Tensor destination, Plane plane, BatchAxes batch, int span, int spans, int u0, int u1)
    {
        ref T src = ref ElementRef.Of<T>(source);
        ref T dst = ref ElementRef.Of<T>(destination);
        for (int u = u0; u < u1; u++)
        {
            int rem = u / spans;
            int j0 = u % spans * span;
            nint srcBase = offset;
            nint dstBase = 0;
            for (int k = batch.Dims.Length - 1; k >= 0; k--)
            {
                int i = rem % batch.Dims[k];
                rem /= batch.Dims[k];
                srcBase += (nint)i * batch.SourceSteps[k];
                dstBase += (nint)i * batch.DestinationSteps[k];
            }

            CopyPlane(ref Unsafe.Add(ref src, srcBase), ref Unsafe.Add(ref dst, dstBase), plane, j0, Math.Min(plane.Columns, j0 + span));
        }
    }

    /// <summary>dst[j·dstRow + i] = src[i·srcRow + j] for i in [0, rows), j in [j0, j1).</summary>
    internal static void CopyPlane<T>(ref T src, ref T dst, Plane plane, int j0, int j1)
    {
        for (int i0 = 0; i0 < plane.Rows; i0 += Block)
        {
            int i1 = Math.Min(plane.Rows, i0 + Block);
            for (int jb = j0; jb < j1; jb += Block)
            {
                int jbEnd = Math.Min(j1, jb + Block);
                int tile = TransposeTiles.TileSize<T>();
                int iEnd = i0;
                if (tile > 0)
                {
                    int jEnd = jb + (jbEnd - jb) / tile * tile;
                    iEnd = i0 + (i1 - i0) / tile * tile;
                    for (int i = i0; i < iEnd; i += tile)
                    {
                        for (int j = jb; j < jEnd; j += tile)
                        {
                            TransposeTiles.Tile(
                                ref Unsafe.Add(ref src, (nint)i * plane.SourceRow + j), plane.SourceRow,
                                ref Unsafe.Add(ref dst, (nint)j * plane.DestinationRow + i), plane.DestinationRow);
                        }

                        Scalar(ref src, ref dst, plane, i, i + tile, jEnd, jbEnd);
                    }
                }

                Scalar(ref src, ref dst, plane, iEnd, i1, jb, jbEnd);
            }
        }
    }

    private static void Scalar<T>(ref T src, ref T dst, Plane plane, int i0, int i1, int j0, int j1)
    {
        for (int j = j0; j < j1; j++)
        {
            ref T to = ref Unsafe.Add(ref dst, (nint)j * plane.DestinationRow);
            ref T from = ref Unsafe.Add(ref src, j);
            for (int i = i0; i < i1; i++)
            {
                Unsafe.Add(ref to, i) = Unsafe.Add(ref from, (nint)i * plane.SourceRow);
            }
        }
    }

    internal readonly record struct Plane(int Rows, int SourceRow, int Columns, int DestinationRow);

    private readonly ref struct BatchAxes(ReadOnlySpan<int> dims, ReadOnlySpan<int> sourceSteps, ReadOnlySpan<int> destinationSteps)
    {
        public ReadOnlySpan<int> Dims { get; } = dims;

        public ReadOnlySpan<int> SourceSteps { get; } = sourceSteps;

        public ReadOnlySpan<int> DestinationSteps { get; } = destinationSteps;
    }

    private struct UnitsBody<T>(Tensor source, int offset, Tensor destination, Plane plane, AxisArray dims, AxisArray sourceSteps,
        AxisArray destinationSteps, int rank, int span, int spans) : IRangeBody
    {
        private AxisArray _dims = dims;
        private AxisArray _sourceSteps = sourceSteps;
        private AxisArray _destinationSteps = destinationSteps;

        public void Invoke(int start, int end)
        {
            var batch = new BatchAxes(((ReadOnlySpan<int>)_dims)[..rank], ((ReadOnlySpan<int>)_sourceSteps)[..rank], ((ReadOnlySpan<int>)_destinationSteps)[..rank]);
            RunUnits<T>(source, offset, destination, plane, batch, span, spans, start, end);
        }
    }
}
