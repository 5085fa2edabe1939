using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Materialises an affine view of a tensor (element offset plus per-axis strides that may be zero or negative) into a
/// contiguous row-major destination. Transpose, Slice, Expand, Tile and Split all reduce to this.
/// </summary>
internal static class StridedCopy
{
    // Copies smaller than this stay on one thread: waking a worker costs more than moving the bytes.
    internal const int ParallelBytes = 1 << 16;

    /// <summary>
    /// Drops unit axes and merges neighbours that are contiguous with each other in the source (the destination is
    /// always contiguous), so [B,S,H,D] perm [0,2,1,3] becomes a 3-axis copy of D-long runs. Writes the merged axes
    /// into <paramref name="dims"/> and <paramref name="steps"/> (at least as long as <paramref name="shape"/>) and
    /// returns how many there are, or -1 when the view is empty.
    /// </summary>
    public static int Simplify(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<int> dims, Span<int> steps)
    {
        int n = 0;
        for (int k = 0; k < shape.Length; k++)
        {
            if (shape[k] == 0)
            {
                return -1;
            }

            if (shape[k] == 1)
            {
                continue;
            }

            if (n > 0 && steps[n - 1] == (long)strides[k] * shape[k])
            {
                dims[n - 1] *= shape[k];
                steps[n - 1] = strides[k];
            }
            else
            {
                dims[n] = shape[k];
                steps[n] = strides[k];
                n++;
            }
        }

        return n;
    }

    /// <summary>True when the simplified view is the source's storage itself from its offset on.</summary>
    public static bool IsContiguous(ReadOnlySpan<int> dims, ReadOnlySpan<int> steps) => dims.Length == 0 || (dims.Length == 1 && steps[0] == 1);

    /// <summary>Row-major element strides of <paramref name="shape"/> into <paramref name="strides"/>, without allocating.</summary>
    public static void StridesInto(ReadOnlySpan<int> shape, Span<int> strides)
    {
        int stride = 1;
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            strides[k] = stride;
            stride *= shape[k];
        }
    }

    /// <summary>destination[i] = source[offset + Σ index_k·strides_k] for every index of <paramref name="shape"/>.</summary>
    public static void Run(Tensor source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Tensor destination, ParallelRunner parallel)
    {
        Span<int> dims = stackalloc int[shape.Length];
        Span<int> steps = stackalloc int[shape.Length];
        int n = Simplify(shape, strides, dims, steps);
        if (n >= 0)
        {
            RunSimplified(source, offset, dims[..n], steps[..n], destination, parallel);
        }
    }

    /// <remarks>May rewrite <paramref name="steps"/> (it widens short runs in place).</remarks>
    public static void RunSimplified(Tensor source, int offset, Span<int> dims, Span<int> steps, Tensor destination, ParallelRunner parallel)
    {
        int word = ElementRef.WordSize(source.DataType);
        Widen(ref word, ref offset, ref dims, ref steps);
        switch (word)
        {
            case 1: Run<byte>(source, offset, dims, steps, destination, parallel); break;
            case 2: Run<ushort>(source, offset, dims, steps, destination, parallel); break;
            case 4: Run<uint>(source, offset, dims, steps, destination, parallel); break;
            case 8: Run<ulong>(source, offset, dims, steps, destination, parallel); break;
            default: Run<string>(source, offset, dims, steps, destination, parallel); break;
        }
    }

    /// <summary>
    /// Short contiguous runs (say two floats) move as one wider word, so a transpose that keeps a tiny last axis
    /// becomes a tiled transpose of 8-byte words instead of millions of tiny row copies.
    /// </summary>
    private static void Widen(ref int word, ref int offset, ref Span<int> dims, ref Span<int> steps)
    {
        int n = dims.Length;
        if (word == 0 || n < 2 || steps[n - 1] != 1)
        {
            return;
        }

        int run = dims[n - 1];
        int wide = word * run;
        if (wide is not (2 or 4 or 8) || offset % run != 0)
        {
            return;
        }

        for (int k = 0; k < n - 1; k++)
        {
            if (steps[k] % run != 0)
            {
                return;
            }
        }

        for (int k = 0; k < n - 1; k++)
        {
            steps[k] /= run;
        }

        word = wide;
        offset /= run;
        dims = dims[..^1];
        steps = steps[..^1];
    }

    private static void Run<T>(Tensor source, int offset, ReadOnlySpan<int> dims, ReadOnlySpan<int> steps, Tensor destination, ParallelRunner parallel)
    {
        int n = dims.Length;
        if (n == 0)
        {
            ElementRef.Of<T>(destination) = Unsafe.Add(ref ElementRef.Of<T>(source), offset);
            return;
        }

        int inner = dims[n - 1];
        int innerStep = steps[n - 1];
        if (innerStep is not 1 and not 0)
        {
            int unitAxis = steps.IndexOf(1);
            if (unitAxis >= 0)
            {
                TiledTranspose.Run<T>(source, offset, dims, steps, unitAxis, destination, parallel);
                return;
            }
        }

        int rows = ShapeMath.Product(dims, 0, n - 1);
        int wordBytes = typeof(T) == typeof(string) ? 8 : Unsafe.SizeOf<T>();
        int minRows = (int)Math.Max(1, ParallelBytes / Math.Max(1, (long)inner * wordBytes));
        if (rows < 2 * minRows || parallel.Degree == 1 || n > AxisArray.Capacity)
        {
            CopyRows<T>(source, offset, dims, steps, destination, 0, rows);
            return;
        }

        var body = new RowsBody<T>(source, offset, AxisArray.From(dims), AxisArray.From(steps), n, destination);
        parallel.ForRange(rows, minRows, ref body);
    }

    private struct RowsBody<T>(Tensor source, int offset, AxisArray dims, AxisArray steps, int rank, Tensor destination) : IRangeBody
    {
        private AxisArray _dims = dims;
        private AxisArray _steps = steps;

        public void Invoke(int start, int end) =>
            CopyRows<T>(source, offset, ((ReadOnlySpan<int>)_dims)[..rank], ((ReadOnlySpan<int>)_steps)[..rank], destination, start, end);
    }

    private static void CopyRows<T>(Tensor source, int offset, ReadOnlySpan<int> dims, ReadOnlySpan<int> steps, Tensor destination, int r0, int r1)
    {
        ref T src = ref ElementRef.Of<T>(source);
        ref T dst = ref ElementRef.Of<T>(destination);
        int n = dims.Length;
        int inner = dims[n - 1];
        int innerStep = steps[n - 1];
        Span<int> index = stackalloc int[n];
        nint srcOff = offset;
        int rem = r0;
        for (int k = n - 2; k >= 0; k--)
        {
            index[k] = rem % dims[k];
            rem /= dims[k];
            srcOff += (nint)index[k] * steps[k];
        }

        nint dstOff = (nint)r0 * inner;
        for (int r = r0; r < r1; r++)
        {
            var to = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst, dstOff), inner);
            if (innerStep == 1)
            {
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref src, srcOff), inner).CopyTo(to);
            }
            else if (innerStep == 0)
            {
                to.Fill(Unsafe.Add(ref src, srcOff));
            }
            else
            {
                ref T from = ref Unsafe.Add(ref src, srcOff);
                for (int e = 0; e < to.Length; e++)
                {
                    to[e] = Unsafe.Add(ref from, (nint)e * innerStep);
                }
            }

            dstOff += inner;
            for (int k = n - 2; k >= 0; k--)
            {
                srcOff += steps[k];
                if (++index[k] < dims[k])
                {
                    break;
                }

                srcOff -= (nint)steps[k] * dims[k];
                index[k] = 0;
            }
        }
    }
}
