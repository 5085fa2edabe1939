using Tessera.Kernels.Core;
using Tessera.Kernels.Reduction;
using Tessera.Tensors;

namespace Tessera.Kernels.Fused;

/// <summary>
/// com.tessera FusedScaleMaskSoftmax(X, M?) with float `scale` (default 1): Softmax(X·scale + M) along the last axis,
/// float32. X and M broadcast together as Add does (the result is X's shape in the attention case it is for: a mask
/// [b, 1, 1, s] or [b, 1, s, s] over scores [b, heads, s, s]), so the fused node means exactly what the graph did.
/// The graph pass emits it for Softmax(Add(Div(S, c) | Mul(S, c), M)) and the forms without the mask or the scale.
/// An optional second output "range" (float32 [2]) holds min(0, min Y) and max(0, max Y) — 0 and the largest of the
/// rows' reciprocal sums, found as the rows are normalised — for a dynamically quantized product that reads Y (the
/// P·V of an int8 attention), which then skips its own pass over Y. An optional input 2 "kept" (int32, one per row of
/// a matrix, i.e. X's second-to-last axis; from a causal attention's Q·Kᵀ) says row i's columns from kept[i] on are a
/// causal mask's, with exp exactly 0 (see <see cref="MaskedTail"/>): only the columns before are read, the rest are
/// written +0.
/// With attribute normalize = 0 (softmax-range-fusion, for an int8 P·V that is Y's only reader) Y holds each row's
/// exp(x·scale + m - max) not yet multiplied by the reciprocal of its sum, and a third output "row_scale" (float32,
/// Y's shape without the last axis) holds those reciprocals: the product multiplies them in as it quantizes, the same
/// multiply, so the same bits, without a pass over every row here. The range output (then required) is P's, as above.
/// </summary>
internal sealed unsafe class ScaleMaskSoftmaxKernel : IKernel
{
    private const string Op = "FusedScaleMaskSoftmax";
    private static readonly int[] s_rangeShape = [2];

    private readonly float _scale;
    private readonly bool _range;
    private readonly bool _normalize;
    private int[] _rowShape = [];

    // Each row's largest value, while the range output is wanted (rows run in parallel; the maximum is taken after).
    private float[] _rowMaxima = [];

    // Geometry for the last shapes seen (cached so a steady-state run allocates nothing): the output shape
    // (X and M broadcast together, which is X's for the attention forms the pass fuses), and per leading output
    // axis the element strides of X and M along it (0 where one broadcasts), and their strides along the last axis.
    private int[] _xShape = [];
    private int[]? _maskShape;
    private int[] _shape = [];
    private long[] _xStrides = [];
    private long[] _maskStrides = [];
    private int _xLastStride;
    private int _maskLastStride;

    public ScaleMaskSoftmaxKernel(KernelInfo info)
    {
        if (info.InputCount is < 1 or > 3) throw new KernelException($"{Op}: expects 1 to 3 inputs, got {info.InputCount}");
        _scale = info.GetFloat("scale", 1f);
        _range = info.OutputCount > 1;
        _normalize = info.GetInt("normalize", 1) != 0;
        if (!_normalize && info.OutputCount != 3)
        {
            throw new KernelException($"{Op}: normalize = 0 leaves Y unnormalised and needs the outputs range and row_scale (3 outputs), got {info.OutputCount}");
        }
    }

    public static IKernel Create(KernelInfo info) => new ScaleMaskSoftmaxKernel(info);

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        var mask = context.Input(1);
        if (x.DataType != DataType.Float32 || mask is { DataType: not DataType.Float32 })
        {
            throw new KernelException($"{Op}: only float32 is supported");
        }

        Prepare(x.Shape, mask?.Shape);
        if (_shape.Length == 0) throw new KernelException($"{Op}: X must have at least one axis");
        var y = context.AllocateOutput(0, DataType.Float32, _shape);
        int n = _shape[^1];
        var range = _range ? context.AllocateOutput(1, DataType.Float32, s_rangeShape).Span<float>() : default;
        range.Clear();
        var rowScales = _normalize ? null : context.AllocateOutput(2, DataType.Float32, RowShape());
        float* rowScale = rowScales is null ? null : (float*)rowScales.Pointer;
        if (y.Length == 0 || n == 0) return;
        int rows = (int)(y.Length / n);
        if (_range && _rowMaxima.Length < rows) _rowMaxima = new float[rows];
        var kept = context.Input(2);
        if (kept is not null && (kept.DataType != DataType.Int32 || _shape.Length < 2 || kept.Length != _shape[^2]))
        {
            throw new KernelException($"{Op}: kept lengths must be int32, one per row of a matrix ({(_shape.Length < 2 ? 1 : _shape[^2])})");
        }

        if (kept is not null) CheckKept(kept, n);
        var body = new Body(this, x, mask, kept, y, n, rowScale);
        var parallel = context.Parallel;
        if (parallel.Degree == 1 || (long)rows * n < ReduceLoops.ParallelThreshold)
        {
            body.Invoke(0, rows);
        }
        else
        {
            parallel.ForRange(rows, Math.Clamp(ReduceLoops.ParallelThreshold / n, 1, rows), ref body);
        }

        if (_range)
        {
            // Every value is at least 0, so the range from 0 up; MathF.Max keeps a NaN row's NaN.
            float max = 0;
            foreach (float m in _rowMaxima.AsSpan(0, rows)) max = MathF.Max(max, m);
            range[1] = max;
        }

        GC.KeepAlive(rowScales);
    }

    private void Prepare(int[] xShape, int[]? maskShape)
    {
        bool sameMask = maskShape is null ? _maskShape is null : _maskShape is not null && maskShape.AsSpan().SequenceEqual(_maskShape);
        if (sameMask && xShape.AsSpan().SequenceEqual(_xShape) && _shape.Length > 0) return;
        int[] shape;
        try
        {
            shape = maskShape is null ? (int[])xShape.Clone() : ShapeMath.Broadcast(xShape, maskShape);
        }
        catch (ArgumentException e)
        {
            throw new KernelException($"{Op}: {e.Message}");
        }

        _xStrides = Strides(shape, xShape, out _xLastStride);
        _maskStrides = maskShape is null ? [] : Strides(shape, maskShape, out _maskLastStride);
        _shape = shape;
        _xShape = (int[])xShape.Clone();
        _maskShape = maskShape is null ? null : (int[])maskShape.Clone();
    }

    // Element strides of a tensor of shape `of` broadcast onto `shape`, per leading axis, and along the last axis.
    private static long[] Strides(int[] shape, int[] of, out int lastStride)
    {
        int rank = shape.Length;
        int offset = rank - of.Length;
        var strides = new long[Math.Max(rank - 1, 0)];
        long stride = 1;
        lastStride = 0;
        for (int axis = rank - 1; axis >= offset && axis >= 0; axis--)
        {
            int d = of[axis - offset];
            long s = d == 1 ? 0 : stride;
            if (axis == rank - 1) lastStride = (int)s;
            else strides[axis] = s;
            stride *= d;
        }

        return strides;
    }

    // Y's shape without its last axis (the row_scale output's), cached for a steady-state run.
    private int[] RowShape()
    {
        if (_rowShape.Length != _shape.Length - 1 || !_rowShape.AsSpan().SequenceEqual(_shape.AsSpan(0, _shape.Length - 1)))
        {
            _rowShape = _shape[..^1];
        }

        return _rowShape;
    }

    private void Rows(Tensor x, Tensor? mask, Tensor? kept, Tensor y, int n, float* rowScale, int start, int end)
    {
        fixed (float* px = x.Span<float>())
        fixed (float* py = y.Span<float>())
        fixed (float* pm = mask is null ? default : mask.Span<float>())
        fixed (int* pk = kept is null ? default : kept.Span<int>())
        {
            // Rows step along the innermost leading axis, so each input's offset is its matrix's start plus the
            // row's index times the stride; the full walk over the leading axes (divisions) runs once per matrix.
            int leading = _xStrides.Length;
            int d = leading == 0 ? int.MaxValue : _shape[leading - 1];
            long xStep = leading == 0 ? 0 : _xStrides[leading - 1];
            long maskStep = leading == 0 || pm is null ? 0 : _maskStrides[leading - 1];
            int i = leading == 0 ? 0 : start % d;
            long xBase = Offset(start - i, _xStrides);
            long maskBase = pm is null ? 0 : Offset(start - i, _maskStrides);
            for (int row = start; row < end; row++, i++)
            {
                if (i == d)
                {
                    i = 0;
                    xBase = Offset(row, _xStrides);
                    maskBase = pm is null ? 0 : Offset(row, _maskStrides);
                }

                float* yr = py + (long)row * n;
                float* xr = px + xBase + i * xStep;
                if (_xLastStride == 0)
                {
                    // X broadcast along the row (its last dimension is 1): spread it into Y and work in place.
                    new Span<float>(yr, n).Fill(*xr);
                    xr = yr;
                }

                int columns = pk is null ? n : Math.Min(pk[i], n);
                float max = ScaleMaskSoftmaxRow.Run(xr, pm is null ? null : pm + maskBase + i * maskStep, _maskLastStride, yr, n, columns, _scale, _normalize);
                if (_range) _rowMaxima[row] = max;
                if (rowScale is not null) rowScale[row] = max;
            }
        }
    }

    // Kept lengths are the whole row (n or more) or a positive multiple of the block, as the producer guarantees: a
    // length cut elsewhere would move kept columns out of their vector lanes. Checked before the rows run in parallel.
    private static void CheckKept(Tensor kept, int n)
    {
        foreach (int length in kept.Span<int>())
        {
            if (length < n && (length <= 0 || length % MaskedTail.Block != 0))
            {
                throw new KernelException($"{Op}: a kept length must be a positive multiple of {MaskedTail.Block} or the row's length {n}, got {length}");
            }
        }
    }

    // The element of a broadcast input at the start of output row `row`, walking the leading axes from the innermost.
    private long Offset(int row, long[] strides)
    {
        long offset = 0;
        var shape = _shape;
        for (int axis = strides.Length - 1; axis >= 0 && row > 0; axis--)
        {
            int d = shape[axis];
            offset += row % d * strides[axis];
            row /= d;
        }

        return offset;
    }

    private readonly struct Body(ScaleMaskSoftmaxKernel kernel, Tensor x, Tensor? mask, Tensor? kept, Tensor y, int n, float* rowScale) : IRangeBody
    {
        public void Invoke(int start, int end) => kernel.Rows(x, mask, kept, y, n, rowScale, start, end);
    }
}
