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
    /// always contiguous), so [B,S,H,D] perm [0,2,1,3] becomes a 3-axis copy of D-long runs. Returns false when the
    /// view is empty.
    /// </summary>
    public static bool Simplify(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, out int[] dims, out int[] steps)
    {
        var d = new List<int>(shape.Length);
        var s = new List<int>(shape.Length);
        for (int k = 0; k < shape.Length; k++)
        {
            if (shape[k] == 0)
            {
                dims = steps = [];
                return false;
            }

            if (shape[k] == 1)
            {
                continue;
            }

            if (d.Count > 0 && s[^1] == (long)strides[k] * shape[k])
            {
                d[^1] *= shape[k];
                s[^1] = strides[k];
            }
            else
            {
                d.Add(shape[k]);
                s.Add(strides[k]);
            }
        }

        dims = [.. d];
        steps = [.. s];
        return true;
    }

    /// <summary>True when the simplified view is the source's storage itself from its offset on.</summary>
    public static bool IsContiguous(int[] dims, int[] steps) => dims.Length == 0 || (dims.Length == 1 && steps[0] == 1);

    /// <summary>destination[i] = source[offset + Σ index_k·strides_k] for every index of <paramref name="shape"/>.</summary>
    public static void Run(Tensor source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Tensor destination, ParallelRunner parallel)
    {
        if (Simplify(shape, strides, out int[] dims, out int[] steps))
        {
            RunSimplified(source, offset, dims, steps, destination, parallel);
        }
    }

    public static void RunSimplified(Tensor source, int offset, int[] dims, int[] steps, Tensor destination, ParallelRunner parallel)
    {
        switch (ElementRef.WordSize(source.DataType))
        {
            case 1: Run<byte>(source, offset, dims, steps, destination, parallel); break;
            case 2: Run<ushort>(source, offset, dims, steps, destination, parallel); break;
            case 4: Run<uint>(source, offset, dims, steps, destination, parallel); break;
            case 8: Run<ulong>(source, offset, dims, steps, destination, parallel); break;
            default: Run<string>(source, offset, dims, steps, destination, parallel); break;
        }
    }

    private static void Run<T>(Tensor source, int offset, int[] dims, int[] steps, Tensor destination, ParallelRunner parallel)
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
            int unitAxis = Array.IndexOf(steps, 1);
            if (unitAxis >= 0)
            {
                TiledTranspose.Run<T>(source, offset, dims, steps, unitAxis, destination, parallel);
                return;
            }
        }

        int rows = ShapeMath.Product(dims, 0, n - 1);
        int wordBytes = typeof(T) == typeof(string) ? 8 : Unsafe.SizeOf<T>();
        int minRows = Math.Max(1, ParallelBytes / Math.Max(1, inner * wordBytes));
        if (rows < 2 * minRows || parallel.Degree == 1)
        {
            CopyRows<T>(source, offset, dims, steps, destination, 0, rows);
            return;
        }

        parallel.ForRange(rows, minRows, (r0, r1) => CopyRows<T>(source, offset, dims, steps, destination, r0, r1));
    }

    private static void CopyRows<T>(Tensor source, int offset, int[] dims, int[] steps, Tensor destination, int r0, int r1)
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
