using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// How to walk an output while reading inputs that broadcast to it (numpy rules). Output dimensions of size 1 are
/// dropped and neighbours that every input reads the same way are merged, so the innermost dimension becomes one
/// long run in which each input is either contiguous (stride 1) or a repeated value (stride 0).
/// </summary>
internal sealed class BroadcastPlan
{
    private readonly int[] _outerDims;
    private readonly int[][] _outerStrides;
    private readonly int[] _innerStrides;

    public BroadcastPlan(ReadOnlySpan<int> outputShape, params ReadOnlySpan<int[]> inputShapes)
    {
        int rank = outputShape.Length;
        int count = inputShapes.Length;
        var dims = new List<int>(rank);
        var strides = new List<int[]>(rank);
        bool empty = false;
        for (int d = 0; d < rank; d++)
        {
            int od = outputShape[d];
            var dimStrides = new int[count];
            for (int i = 0; i < count; i++)
            {
                int[] shape = inputShapes[i];
                if (shape.Length > rank)
                {
                    throw new KernelException($"shape {ShapeMath.Format(shape)} cannot broadcast to {ShapeMath.Format(outputShape)}");
                }

                int pos = d - (rank - shape.Length);
                int id = pos < 0 ? 1 : shape[pos];
                if (id != od && id != 1)
                {
                    throw new KernelException($"shape {ShapeMath.Format(shape)} cannot broadcast to {ShapeMath.Format(outputShape)}");
                }

                dimStrides[i] = id == 1 ? 0 : ShapeMath.Product(shape, pos + 1, shape.Length);
            }

            if (od == 0)
            {
                empty = true;
            }

            if (od == 1)
            {
                continue;
            }

            int last = dims.Count - 1;
            if (last >= 0 && CanMerge(strides[last], dimStrides, od))
            {
                dims[last] *= od;
                strides[last] = dimStrides;
            }
            else
            {
                dims.Add(od);
                strides.Add(dimStrides);
            }
        }

        if (empty)
        {
            _outerDims = [];
            _outerStrides = new int[count][];
            _innerStrides = new int[count];
            for (int i = 0; i < count; i++) _outerStrides[i] = [];
            return;
        }

        if (dims.Count == 0)
        {
            dims.Add(1);
            strides.Add(new int[count]);
        }

        int outerRank = dims.Count - 1;
        InnerLength = dims[outerRank];
        _innerStrides = strides[outerRank];
        _outerDims = dims.GetRange(0, outerRank).ToArray();
        _outerStrides = new int[count][];
        for (int i = 0; i < count; i++)
        {
            _outerStrides[i] = new int[outerRank];
            for (int d = 0; d < outerRank; d++)
            {
                _outerStrides[i][d] = strides[d][i];
            }
        }

        OuterCount = ShapeMath.Product(_outerDims, 0, outerRank);
    }

    /// <summary>Number of innermost runs (0 when the output is empty).</summary>
    public int OuterCount { get; }

    /// <summary>Elements in each innermost run.</summary>
    public int InnerLength { get; }

    public int OuterRank => _outerDims.Length;

    /// <summary>1 when input <paramref name="input"/> is contiguous along a run, 0 when a run repeats one of its values.</summary>
    public int InnerStride(int input) => _innerStrides[input];

    /// <summary>The broadcast shape of the given shapes, or a KernelException naming them all.</summary>
    public static int[] OutputShape(string opType, params ReadOnlySpan<int[]> shapes)
    {
        int rank = 0;
        foreach (var s in shapes) rank = Math.Max(rank, s.Length);
        var result = new int[rank];
        Array.Fill(result, 1);
        foreach (var s in shapes)
        {
            for (int i = 0; i < s.Length; i++)
            {
                int d = rank - s.Length + i;
                int dim = s[i];
                if (dim == result[d] || dim == 1)
                {
                    continue;
                }

                if (result[d] != 1)
                {
                    throw new KernelException($"{opType}: shapes {FormatAll(shapes)} cannot be broadcast together");
                }

                result[d] = dim;
            }
        }

        return result;
    }

    /// <summary>Positions the cursor at the start of run <paramref name="row"/>; offsets receive each input's element offset.</summary>
    public void Seek(int row, Span<int> index, Span<int> offsets)
    {
        offsets.Clear();
        for (int d = _outerDims.Length - 1; d >= 0; d--)
        {
            int i = row % _outerDims[d];
            row /= _outerDims[d];
            index[d] = i;
            for (int k = 0; k < offsets.Length; k++)
            {
                offsets[k] += i * _outerStrides[k][d];
            }
        }
    }

    /// <summary>Moves the cursor to the next run.</summary>
    public void Advance(Span<int> index, Span<int> offsets)
    {
        for (int d = _outerDims.Length - 1; d >= 0; d--)
        {
            index[d]++;
            if (index[d] < _outerDims[d])
            {
                for (int k = 0; k < offsets.Length; k++) offsets[k] += _outerStrides[k][d];
                return;
            }

            index[d] = 0;
            for (int k = 0; k < offsets.Length; k++) offsets[k] -= _outerStrides[k][d] * (_outerDims[d] - 1);
        }
    }

    private static bool CanMerge(int[] outer, int[] inner, int innerDim)
    {
        for (int i = 0; i < outer.Length; i++)
        {
            if (outer[i] != inner[i] * innerDim)
            {
                return false;
            }
        }

        return true;
    }

    private static string FormatAll(ReadOnlySpan<int[]> shapes)
    {
        var parts = new string[shapes.Length];
        for (int i = 0; i < shapes.Length; i++) parts[i] = ShapeMath.Format(shapes[i]);
        return string.Join(" and ", parts);
    }
}
