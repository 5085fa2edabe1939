using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The batched product of two rank-4 operands that are transposes of the tensors given (X = Transpose(x, xPerm),
/// W = Transpose(w, wPerm)), with the result written as Transpose(X·W, yPerm): each operand and the output as
/// element offsets per batch and row and column strides into the tensors as they are, so no transposed copy is
/// made (an attention's heads: Q, K, V read as [b, h, s, d] out of [b, s, h, d], the context written back into it).
/// The leading two dimensions broadcast as MatMul's batch dimensions do. X's and Y's columns must be contiguous
/// (perm[3] = 3), and W's rows or columns (perm[3] = 3 or perm[2] = 3): what the kernel's packing reads.
/// </summary>
internal sealed class PermutedMatMulShape
{
    private const int Rank = 4;
    private readonly int[] _x;
    private readonly int[] _w;

    private PermutedMatMulShape(int[] x, int[] w)
    {
        _x = [.. x];
        _w = [.. w];
    }

    public int M { get; private init; }

    public int N { get; private init; }

    public int K { get; private init; }

    /// <summary>The shape of the output as written: the product's [b, h, M, N] permuted by yPerm.</summary>
    public int[] OutputShape { get; private init; } = [];

    public int BatchCount => XOffsets.Length;

    /// <summary>Element offset of each batch's X, W and Y matrix (broadcast batches repeat an offset).</summary>
    public int[] XOffsets { get; private init; } = [];

    public int[] WOffsets { get; private init; } = [];

    public long[] YByteOffsets { get; private init; } = [];

    public int XRowStride { get; private init; }

    public int WRowStride { get; private init; }

    public int WColStride { get; private init; }

    public int YRowStride { get; private init; }

    /// <summary>Whether these permutations are ones the kernel reads and writes through (see the class summary).</summary>
    public static bool Accepts(ReadOnlySpan<long> xPerm, ReadOnlySpan<long> wPerm, ReadOnlySpan<long> yPerm) =>
        AcceptsRows(xPerm) && AcceptsW(wPerm) && AcceptsRows(yPerm);

    /// <summary>A permutation of X or Y the kernel takes: rank 4, the last axis kept (rows of contiguous values).</summary>
    public static bool AcceptsRows(ReadOnlySpan<long> perm) => IsPermutation(perm) && perm[3] == 3;

    /// <summary>A permutation of W the kernel takes: rank 4, its rows or its columns contiguous.</summary>
    public static bool AcceptsW(ReadOnlySpan<long> perm) => IsPermutation(perm) && (perm[3] == 3 || perm[2] == 3);

    public bool Matches(int[] x, int[] w) => x.AsSpan().SequenceEqual(_x) && w.AsSpan().SequenceEqual(_w);

    public static PermutedMatMulShape Create(int[] x, int[] w, long[] xPerm, long[] wPerm, long[] yPerm, int elementSize)
    {
        if (x.Length != Rank || w.Length != Rank)
        {
            throw new KernelException($"QuantizedMatMul with transposed operands needs rank-4 X and W, got {ShapeMath.Format(x)} and {ShapeMath.Format(w)}");
        }

        var (xShape, xStrides) = Permuted(x, xPerm);
        var (wShape, wStrides) = Permuted(w, wPerm);
        if (xShape[3] != wShape[2])
        {
            throw new KernelException($"QuantizedMatMul inner dimensions differ: {ShapeMath.Format(xShape)} x {ShapeMath.Format(wShape)} (after the transposes)");
        }

        int b0 = Broadcast(xShape[0], wShape[0], xShape, wShape), b1 = Broadcast(xShape[1], wShape[1], xShape, wShape);
        int m = xShape[2], k = xShape[3], n = wShape[3];
        int[] product = [b0, b1, m, n];
        var output = new int[Rank];
        for (int i = 0; i < Rank; i++) output[i] = product[yPerm[i]];

        // The output is contiguous as written; dimension yPerm[i] of the product has the stride of dimension i.
        var written = ShapeMath.Strides(output);
        var yStrides = new int[Rank];
        for (int i = 0; i < Rank; i++) yStrides[yPerm[i]] = written[i];

        var xOffsets = new int[b0 * b1];
        var wOffsets = new int[b0 * b1];
        var yOffsets = new long[b0 * b1];
        for (int i = 0; i < b0; i++)
        {
            for (int j = 0; j < b1; j++)
            {
                int batch = (i * b1) + j;
                xOffsets[batch] = Offset(xShape, xStrides, i, j);
                wOffsets[batch] = Offset(wShape, wStrides, i, j);
                yOffsets[batch] = ((long)i * yStrides[0] + (long)j * yStrides[1]) * elementSize;
            }
        }

        return new PermutedMatMulShape(x, w)
        {
            M = m,
            N = n,
            K = k,
            OutputShape = output,
            XOffsets = xOffsets,
            WOffsets = wOffsets,
            YByteOffsets = yOffsets,
            XRowStride = xStrides[2],
            WRowStride = wStrides[2],
            WColStride = wStrides[3],
            YRowStride = yStrides[2],
        };
    }

    private static bool IsPermutation(ReadOnlySpan<long> perm)
    {
        if (perm.Length != Rank) return false;
        int seen = 0;
        foreach (long p in perm)
        {
            if (p is < 0 or >= Rank || (seen & (1 << (int)p)) != 0) return false;
            seen |= 1 << (int)p;
        }

        return true;
    }

    // The operand as the transpose would make it: dimension i is the tensor's dimension perm[i], with its stride.
    private static (int[] Shape, int[] Strides) Permuted(int[] shape, long[] perm)
    {
        var strides = ShapeMath.Strides(shape);
        var permutedShape = new int[Rank];
        var permutedStrides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            permutedShape[i] = shape[perm[i]];
            permutedStrides[i] = strides[perm[i]];
        }

        return (permutedShape, permutedStrides);
    }

    private static int Broadcast(int a, int b, int[] x, int[] w) =>
        a == b || b == 1 ? a : a == 1 ? b
        : throw new KernelException($"QuantizedMatMul batch dimensions do not broadcast: {ShapeMath.Format(x)} x {ShapeMath.Format(w)} (after the transposes)");

    private static int Offset(int[] shape, int[] strides, int i, int j) =>
        (shape[0] == 1 ? 0 : i * strides[0]) + (shape[1] == 1 ? 0 : j * strides[1]);
}
