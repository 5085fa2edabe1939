using Tessera.Tensors;

namespace Tessera.Kernels.Linear;

/// <summary>
/// numpy.matmul shape rules: a 1-D A is a row vector and a 1-D B a column vector (the added axis is dropped from
/// the result); the leading batch dimensions broadcast against each other.
/// </summary>
internal sealed class MatMulShape
{
    private MatMulShape(int m, int n, int k, int[] outputShape, int batchCount, int[] aOffsets, int[] bOffsets)
    {
        M = m;
        N = n;
        K = k;
        OutputShape = outputShape;
        BatchCount = batchCount;
        AOffsets = aOffsets;
        BOffsets = bOffsets;
    }

    private int[] _a = [];
    private int[] _b = [];

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public int[] OutputShape { get; }

    public int BatchCount { get; }

    /// <summary>Element offset of each batch's A matrix (broadcast batches repeat an offset).</summary>
    public int[] AOffsets { get; }

    public int[] BOffsets { get; }

    /// <summary>True when B is one matrix for every batch and A's batches are contiguous, so the batches fold into M.</summary>
    public bool FoldsIntoRows { get; private init; }

    /// <summary>Whether this shape was created for inputs of these shapes (kernels reuse it while shapes stay fixed).</summary>
    public bool Matches(int[] a, int[] b) => a.AsSpan().SequenceEqual(_a) && b.AsSpan().SequenceEqual(_b);

    public static MatMulShape Create(int[] a, int[] b)
    {
        if (a.Length == 0 || b.Length == 0)
        {
            throw new Core.KernelException($"MatMul needs inputs of rank >= 1, got {ShapeMath.Format(a)} and {ShapeMath.Format(b)}");
        }

        int m = a.Length == 1 ? 1 : a[^2];
        int k = a[^1];
        int kb = b.Length == 1 ? b[0] : b[^2];
        int n = b.Length == 1 ? 1 : b[^1];
        if (k != kb)
        {
            throw new Core.KernelException($"MatMul inner dimensions differ: {ShapeMath.Format(a)} x {ShapeMath.Format(b)}");
        }

        var batchA = a.Length > 2 ? a[..^2] : [];
        var batchB = b.Length > 2 ? b[..^2] : [];
        int[] batch;
        try
        {
            batch = ShapeMath.Broadcast(batchA, batchB);
        }
        catch (ArgumentException e)
        {
            throw new Core.KernelException($"MatMul batch dimensions do not broadcast: {e.Message}");
        }

        var output = new List<int>(batch);
        if (a.Length > 1)
        {
            output.Add(m);
        }

        if (b.Length > 1)
        {
            output.Add(n);
        }

        int count = ShapeMath.ElementCount(batch);
        var aOffsets = Offsets(batchA, batch, m * k, count);
        var bOffsets = Offsets(batchB, batch, k * n, count);
        bool folds = ShapeMath.ElementCount(batchB) == 1 && ShapeMath.ElementCount(batchA) == count;
        return new MatMulShape(m, n, k, [.. output], count, aOffsets, bOffsets) { FoldsIntoRows = folds, _a = [.. a], _b = [.. b] };
    }

    private static int[] Offsets(int[] own, int[] batch, int matrixSize, int count)
    {
        var offsets = new int[count];
        int rank = batch.Length;
        var strides = new int[rank];
        int stride = matrixSize;
        for (int d = rank - 1; d >= 0; d--)
        {
            int ownIndex = d - (rank - own.Length);
            int dim = ownIndex >= 0 ? own[ownIndex] : 1;
            strides[d] = dim == 1 ? 0 : stride;
            stride *= dim;
        }

        var index = new int[rank];
        int offset = 0;
        for (int i = 0; i < count; i++)
        {
            offsets[i] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                offset += strides[d];
                if (++index[d] < batch[d])
                {
                    break;
                }

                offset -= strides[d] * batch[d];
                index[d] = 0;
            }
        }

        return offsets;
    }
}
